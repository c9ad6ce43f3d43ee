"""Where a webhook may be sent: public addresses only (SSRF).

The host is resolved and every address it resolves to is checked, both when an endpoint
subscribes and on every delivery; the delivery then connects to the address it checked,
so a name that resolves to a public address at the check and to 10.0.0.5 a moment later
(DNS rebinding) is never followed. ``settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS`` lifts the
address rule for development and tests (a receiver on 127.0.0.1)."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from orders.webhooks.exceptions import UnsafeWebhookURL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    """A checked URL's parts: the address to connect to and the name to present."""

    scheme: str
    host: str
    port: int
    address: IPAddress


def _public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    # is_global is False for loopback, private, link-local (169.254.169.254), shared
    # (100.64/10), reserved and documentation ranges; multicast is global but no server.
    return address.is_global and not address.is_multicast


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeWebhookURL(f"The host {host!r} does not resolve.") from exc
    # Drop an IPv6 scope ("fe80::1%eth0"): the address itself is what is checked.
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def target_resolve(url: str) -> Target:
    """The URL's target, checked; raises UnsafeWebhookURL saying what is wrong."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeWebhookURL("Enter a valid URL.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeWebhookURL("Enter an http:// or https:// URL.")
    if parts.username or parts.password:
        raise UnsafeWebhookURL("Credentials in the URL are not allowed.")
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(parts.hostname, port)
    if not addresses:
        raise UnsafeWebhookURL(f"The host {parts.hostname!r} does not resolve.")
    if not settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS:
        refused = sorted({str(a) for a in addresses if not _public(a)})
        if refused:
            raise UnsafeWebhookURL(
                f"{parts.hostname} is (or resolves to) {', '.join(refused)}: webhooks are "
                "sent only to public internet addresses."
            )
    return Target(parts.scheme, parts.hostname, port, addresses[0])

"""Rate limits outside the API (the API's own are DRF throttles), on DRF's sliding-window
throttle and the shared cache: with Redis configured every process counts together."""

import hashlib

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class KeyedRateLimit(SimpleRateThrottle):
    """At most `rate` ("5/hour") hits per `key` within its window."""

    def __init__(self, *, scope: str, key: str, rate: str):
        self.scope = scope
        self.rate = rate
        self.ident = key
        super().__init__()

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.ident}


def password_reset_limits(*, email: str, ip: str | None) -> list[KeyedRateLimit]:
    """Per client address first (so a flood from one place is stopped before it counts
    against the addresses it names), then per email address, case-folded."""
    rates = settings.PASSWORD_RESET_RATES
    return [
        KeyedRateLimit(scope="password_reset_ip", key=ip or "unknown", rate=rates["ip"]),
        KeyedRateLimit(
            scope="password_reset_email", key=_digest(email.casefold()), rate=rates["email"]
        ),
    ]


def _digest(value: str) -> str:
    """Addresses are counted under a digest: no email address sits in the cache."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def limits_allow(limits, request) -> int | None:
    """None if every limit allows one more hit (counting it), else the seconds to wait."""
    for limit in limits:
        if not limit.allow_request(request, None):
            return max(1, int(limit.wait() or 1))
    return None

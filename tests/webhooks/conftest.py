"""A local receiver on 127.0.0.1 (allowed by WEBHOOKS_ALLOW_PRIVATE_TARGETS in these
tests only), endpoints, and the after-commit kicks recorded instead of published."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from orders.webhooks.events import WebhookEvent
from orders.webhooks.models import Endpoint
from orders.webhooks.services import endpoint_subscribe


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next of ``statuses`` (the last one repeats)."""

    port: int = 0
    statuses: list = field(default_factory=lambda: [200])
    requests: list = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append(Received(self.path, dict(self.headers), body))
            status = state.statuses[min(len(state.requests), len(state.statuses)) - 1]
            self.send_response(status)
            if status in (301, 302, 307, 308):
                self.send_header("Location", f"http://127.0.0.1:{state.port}/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def allow_private(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True


@pytest.fixture
def kicks(monkeypatch):
    """The deliveries queued after commit, recorded instead of published."""
    from orders.webhooks.tasks import webhook_deliver_task

    queued: list[int] = []
    monkeypatch.setattr(
        webhook_deliver_task, "apply_async", lambda args, **kwargs: queued.append(args[0])
    )
    return queued


def endpoint_for(*, user, url, account, events=None) -> Endpoint:
    """An endpoint subscribed the way the API does it (the secret kept on the row)."""
    return endpoint_subscribe(
        user=user, url=url, events=events or list(WebhookEvent.values), account=account
    ).endpoint


def resolving(monkeypatch, names: dict[str, list[str]]):
    """Make socket.getaddrinfo answer ``names`` (host -> addresses), as a DNS would."""
    import socket

    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in names:
            return [
                (
                    socket.AF_INET6 if ":" in address else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (address, port),
                )
                for address in names[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)

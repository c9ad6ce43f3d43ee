import os
import socket
import threading
import time
from contextlib import contextmanager

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from kombu import pools as kombu_pools

from notifications import services
from portal.celery import app as celery_app


@pytest.fixture(autouse=True)
def _fresh_breaker():
    services.delivery_breaker_reset()
    yield
    services.delivery_breaker_reset()


@pytest.fixture
def kicks(monkeypatch):
    """Record the messages whose delivery is queued after commit (one by one, or many
    through the kick task) instead of publishing them: the kicks as they are without a
    shared cache, each naming its messages (test_kick.py has the coalesced ones)."""
    from notifications.tasks import outbox_deliver_task, outbox_kick_task

    monkeypatch.setattr(services, "_kicks_coalesce", lambda: False)
    queued: list[int] = []

    def fake_deliver(args, **kwargs):
        queued.append(args[0])

    def fake_kick(args, **kwargs):
        queued.extend(args[0])

    monkeypatch.setattr(outbox_deliver_task, "apply_async", fake_deliver)
    monkeypatch.setattr(outbox_kick_task, "apply_async", fake_kick)
    return queued


# A broker nobody listens on: a publish fails at once, as with Redis down.
CLOSED_PORT_BROKER = "redis://127.0.0.1:1/3"


def _reset_celery_pools():
    kombu_pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def celery_broker(url: str):
    """Point the Celery app at another broker for the duration (and back). Celery reads
    CELERY_BROKER_URL from the environment before its own setting, so both change."""
    previous = celery_app.conf.broker_url
    previous_env = os.environ.get("CELERY_BROKER_URL")
    celery_app.conf.broker_url = url
    os.environ["CELERY_BROKER_URL"] = url
    _reset_celery_pools()
    try:
        yield
    finally:
        celery_app.conf.broker_url = previous
        if previous_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = previous_env
        _reset_celery_pools()


class SlowCountingBackend(LocmemBackend):
    """locmem, but each send takes a while: makes two workers overlap for sure."""

    lock = threading.Lock()
    delay = 0.3

    def send_messages(self, messages):
        time.sleep(self.delay)
        with self.lock:
            return super().send_messages(messages)


class FailingBackend(LocmemBackend):
    error: Exception = OSError("Connection refused")

    def send_messages(self, messages):
        raise self.error


@pytest.fixture
def outbox():
    mail.outbox = []
    return mail.outbox


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

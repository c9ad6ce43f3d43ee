"""A real Celery worker is SIGKILLed in the middle of sending an email through a real
(slow) SMTP server; after the lease expires the sweep finishes the job.

What the outbox admits (notifications/locks.py): the claim commits before SMTP and the
row is marked sent right after the server's 250. So:
- killed before the message data reached the server: exactly one email, in the end;
- killed after the server has the data but before the row is marked sent: the sweep
  sends it again. The sink then holds two copies, both with the same Message-ID header
  (clients that de-duplicate by it show one). That is the only duplicate the design
  admits, and this test pins it to exactly that: two copies, same Message-ID, never
  three, and the row ends "sent" after two attempts."""

import asyncio
import datetime as dt
import email
import os
import signal
import subprocess
import threading
import time
from email import policy
from pathlib import Path

import pytest
import redis
import time_machine
from aiosmtpd.controller import Controller
from django.db import transaction

from notifications.kinds import MessageKind
from notifications.models import Message, MessageStatus
from notifications.samples import SAMPLE_CONTEXTS
from notifications.services import delivery_breaker_reset, message_enqueue, outbox_sweep
from tests.factories import UserFactory
from tests.notifications.conftest import celery_broker, free_port
from tests.workers import celery_worker_start, scratch_broker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BROKER = scratch_broker(14)
ROOT = Path(__file__).resolve().parents[2]


class SlowSink:
    """An SMTP server that stalls the first delivery at one stage ("rcpt": before the
    data is sent; "data": after the server has the whole message) until released."""

    def __init__(self, stall_at: str):
        self.stall_at = stall_at
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.received: list[email.message.EmailMessage] = []
        self._first = True

    async def _stall(self):
        if self._first:
            self._first = False
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.stall_at == "rcpt":
            await self._stall()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        # The server has the whole message now: count it as received, whatever happens.
        self.received.append(email.message_from_bytes(envelope.content, policy=policy.default))
        if self.stall_at == "data":
            await self._stall()
        return "250 Message accepted for delivery"


def _start_worker(smtp_port: int) -> subprocess.Popen:
    return celery_worker_start(broker=BROKER, env={"EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"})


@pytest.mark.parametrize(("stall_at", "copies"), [("rcpt", 1), ("data", 2)])
def test_a_worker_killed_mid_send_is_finished_by_the_sweep(settings, stall_at, copies):
    try:
        redis.Redis.from_url(BROKER, socket_timeout=2).flushdb()
    except redis.RedisError:
        pytest.skip("Redis is not reachable.")
    sink = SlowSink(stall_at)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    delivery_breaker_reset()
    worker = _start_worker(port)
    try:
        # given: a message whose delivery the worker picks up and the sink stalls
        user = UserFactory(email="buyer@comfortshoes.example")
        with celery_broker(BROKER), transaction.atomic():
            (message,) = message_enqueue(
                kind=MessageKind.SHIPMENT,
                key="shipment:SH-1",
                recipients=[user],
                context=SAMPLE_CONTEXTS[MessageKind.SHIPMENT],
            )
        assert sink.stalled.wait(timeout=60), "the worker never reached the SMTP server"
        message.refresh_from_db()
        assert message.status == MessageStatus.SENDING

        # when: the worker is killed mid-send
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        sink.release.set()
        time.sleep(0.3)  # let the sink notice the dropped connection
        message.refresh_from_db()
        assert message.status == MessageStatus.SENDING  # nobody marked it

        # then: the sweep leaves it alone while the lease runs ...
        assert outbox_sweep() == []
        # ... and redelivers it once the lease has expired
        after_lease = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=6)
        with time_machine.travel(after_lease):
            results = outbox_sweep()
            again = outbox_sweep()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
        controller.stop()

    assert [r.outcome for r in results] == ["sent"]
    assert again == []
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 2)
    assert len(sink.received) == copies
    assert {m["Message-ID"] for m in sink.received} == {f"<outbox-{message.pk}@trailwise.example>"}
    assert Message.objects.count() == 1
    print(f"\nFAULT worker-killed at {stall_at}: {len(sink.received)} copy(ies) in the sink")

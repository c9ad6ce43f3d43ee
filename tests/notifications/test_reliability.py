"""The outbox guarantees, on PostgreSQL with real threads and a real broker."""

import datetime as dt
import json
import threading
import time

import pytest
import redis
import time_machine
from django.conf import settings as django_settings
from django.db import connections, transaction

from notifications import services
from notifications.kinds import MessageKind
from notifications.models import Message, MessageStatus
from notifications.samples import SAMPLE_CONTEXTS
from notifications.services import (
    OutgoingMessage,
    message_deliver,
    message_enqueue,
    messages_enqueue,
    outbox_sweep,
)
from notifications.tasks import outbox_deliver_task, outbox_sweep_task
from tests.conftest import concurrent
from tests.factories import UserFactory
from tests.notifications.conftest import CLOSED_PORT_BROKER, SlowCountingBackend, celery_broker
from tests.workers import scratch_broker

pytestmark = [pytest.mark.django_db(transaction=True), concurrent]

LIVE_BROKER = scratch_broker(3)


def _in_threads(n, target):
    """Run target(i) in n threads released together; re-raise the first error."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = target(i)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    if errors:
        raise errors[0]
    return results


def _shipment(user, key="shipment:42"):
    with transaction.atomic():
        (message,) = message_enqueue(
            kind=MessageKind.SHIPMENT,
            key=key,
            recipients=[user],
            context=SAMPLE_CONTEXTS[MessageKind.SHIPMENT],
        )
    return message


def test_two_workers_on_one_message_send_it_once(settings, kicks, outbox):
    # given: a slow mail server, so both workers are surely inside delivery together
    settings.EMAIL_BACKEND = "tests.notifications.conftest.SlowCountingBackend"
    message = _shipment(UserFactory())

    # when: two workers deliver the same row at the same moment (a kick and the sweep)
    outcomes = _in_threads(4, lambda i: message_deliver(message_id=message.pk).outcome)

    # then
    assert sorted(outcomes) == ["not_claimed", "not_claimed", "not_claimed", "sent"]
    assert len(outbox) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 1)
    assert SlowCountingBackend.delay > 0


def test_two_transactions_enqueuing_one_event_write_one_row(kicks):
    # given
    user = UserFactory()

    # when: the same event is handled twice concurrently (e.g. a job re-run)
    def enqueue(i):
        with transaction.atomic():
            rows = message_enqueue(
                kind=MessageKind.SHIPMENT,
                key="shipment:7",
                recipients=[user],
                context=SAMPLE_CONTEXTS[MessageKind.SHIPMENT],
            )
            time.sleep(0.2)  # hold the transaction open so the other one waits on it
        return rows[0].pk

    pks = _in_threads(2, enqueue)

    # then: one row, both callers see it, and only the writer kicked it
    assert Message.objects.filter(key=f"shipment:7:{user.pk}").count() == 1
    assert pks[0] == pks[1]
    assert kicks == [pks[0]]


def test_broker_down_the_order_commits_fast_and_the_sweep_delivers_later(outbox, monkeypatch):
    # given: the broker is unreachable (nothing listens on port 1)
    user = UserFactory()
    tries = []
    with celery_broker(CLOSED_PORT_BROKER):
        # when: an event commits with a message
        started = time.monotonic()
        with transaction.atomic():
            (message,) = message_enqueue(
                kind=MessageKind.ORDER_CONFIRMATION,
                key="order:SO-1",
                recipients=[user],
                context=SAMPLE_CONTEXTS[MessageKind.ORDER_CONFIRMATION],
            )
        elapsed = time.monotonic() - started
        # and another, while the breaker remembers the broker is down
        with monkeypatch.context() as patch:
            patch.setattr(outbox_deliver_task, "apply_async", lambda *a, **k: tries.append(a))
            _shipment(user, key="shipment:99")

    # then: the first commit gave up on the broker fast, the second did not try it,
    # and the rows wait in the outbox
    assert elapsed < 2.5
    assert tries == []
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.PENDING}
    assert outbox == []

    # when: the broker (and a worker) are back, the periodic sweep runs
    with (
        celery_broker(LIVE_BROKER),
        time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)),
    ):
        delivered = outbox_sweep_task()

    # then: both delivered, once
    assert delivered == 2
    assert sorted(m.subject for m in outbox) == [
        "Comfort Shoes of Burlington: Order SO-10042 (PO PO-7781) has shipped",
        "Comfort Shoes of Burlington: Order SO-10042 confirmed (PO PO-7781)",
    ]
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert outbox_sweep() == []


def _published_after_commit(enqueue):
    """Run enqueue() in a transaction against the live broker; check nothing is queued
    before the commit and exactly one task after it. Returns (rows, task headers)."""
    import json

    client = redis.Redis.from_url(LIVE_BROKER, socket_timeout=3)
    queue = "celery"
    client.delete(queue)
    try:
        with celery_broker(LIVE_BROKER):
            with transaction.atomic():
                rows = enqueue()
                assert client.llen(queue) == 0  # not before commit
            assert client.llen(queue) == 1
        return rows, json.loads(client.lindex(queue, 0))["headers"]
    finally:
        client.delete(queue)


def test_with_the_broker_up_the_kick_publishes_after_commit_only(monkeypatch):
    monkeypatch.setattr(services, "_kicks_coalesce", lambda: False)  # each kick its own task
    user = UserFactory()
    (message,), headers = _published_after_commit(
        lambda: message_enqueue(
            kind=MessageKind.INVOICE,
            key="invoice:1",
            recipients=[user],
            context=SAMPLE_CONTEXTS[MessageKind.INVOICE],
        )
    )
    assert headers["task"] == "notifications.tasks.outbox_deliver_task"
    assert headers["argsrepr"] == f"({message.pk},)"
    assert django_settings.CELERY_TASK_SERIALIZER == "json"


def test_with_the_broker_up_a_fan_out_is_one_kick_task_after_commit(monkeypatch):
    monkeypatch.setattr(services, "_kicks_coalesce", lambda: False)
    users = UserFactory.create_batch(3)
    written, headers = _published_after_commit(
        lambda: messages_enqueue(
            kind=MessageKind.INVOICE,
            messages=[
                OutgoingMessage(
                    key=f"invoice:{i}",
                    recipients=[user],
                    context=SAMPLE_CONTEXTS[MessageKind.INVOICE],
                )
                for i, user in enumerate(users)
            ],
        )
    )
    assert headers["task"] == "notifications.tasks.outbox_kick_task"
    assert headers["argsrepr"] == f"({[m.pk for m in written]!r},)"


@pytest.mark.skipif(
    not services._kicks_coalesce(), reason="kicks coalesce only in a cache every process shares"
)
def test_with_a_shared_cache_the_kicks_until_a_drain_starts_are_one_drain_task(outbox):
    from notifications.tasks import outbox_drain_task

    client = redis.Redis.from_url(LIVE_BROKER, socket_timeout=3)
    client.delete("celery")

    def queued() -> list[str]:
        return [json.loads(raw)["headers"]["task"] for raw in client.lrange("celery", 0, -1)]

    try:
        with celery_broker(LIVE_BROKER):
            # when: two events commit their messages before any worker starts the drain
            first = _shipment(UserFactory(), key="shipment:1")
            second = _shipment(UserFactory(), key="shipment:2")
            # then: one drain task was published, after the first commit
            assert queued() == ["notifications.tasks.outbox_drain_task"]

            # when: a worker starts the drain, and a third event commits meanwhile
            def third_commits_during_the_read(**kwargs):
                third.append(_shipment(UserFactory(), key="shipment:3"))
                return outbox_sweep(**kwargs)

            third = []
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(services, "outbox_sweep", third_commits_during_the_read)
                drained = outbox_drain_task()
            # then: the drain delivered the three rows, and the third event, which
            # committed after the drain cleared its flag, queued a drain of its own
            assert drained == 3
            assert queued() == ["notifications.tasks.outbox_drain_task"] * 2
            # which finds nothing left: each message was sent once
            assert outbox_drain_task() == 0
        for message in (first, second, *third):
            message.refresh_from_db()
            assert message.status == MessageStatus.SENT
        assert len(outbox) == 3
    finally:
        client.delete("celery")

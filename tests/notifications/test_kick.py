"""The after-commit kick: one message is queued as its own delivery task; many (a
fan-out) as one kick task that a worker turns into one delivery task each."""

import time

import pytest

from notifications import services
from notifications.tasks import outbox_deliver_task, outbox_kick_task
from tests.notifications.conftest import CLOSED_PORT_BROKER, celery_broker


@pytest.fixture
def published(monkeypatch):
    """(task name, args) of every publish, instead of publishing."""
    calls = []

    def recorder(task):
        def apply_async(args, **kwargs):
            calls.append((task.name.rpartition(".")[2], args))

        return apply_async

    monkeypatch.setattr(outbox_deliver_task, "apply_async", recorder(outbox_deliver_task))
    monkeypatch.setattr(outbox_kick_task, "apply_async", recorder(outbox_kick_task))
    return calls


def test_one_message_is_queued_as_its_own_delivery(published):
    assert services.delivery_kick((7,)) == 1
    assert published == [("outbox_deliver_task", (7,))]


def test_many_messages_are_one_publish_then_one_delivery_each_from_the_worker(published):
    # when an event's commit kicks many messages
    assert services.delivery_kick((3, 4, 5)) == 3
    # then the event's process published once
    assert published == [("outbox_kick_task", ([3, 4, 5],))]
    # and the worker running the kick task queues each delivery
    assert outbox_kick_task([3, 4, 5]) == 3
    assert published[1:] == [("outbox_deliver_task", (i,)) for i in (3, 4, 5)]


def test_broker_down_a_fan_out_kick_gives_up_fast_and_leaves_the_rows_to_the_sweep(
    monkeypatch,
):
    with celery_broker(CLOSED_PORT_BROKER):
        started = time.monotonic()
        assert services.delivery_kick((1, 2, 3)) == 0
        assert time.monotonic() - started < 2.5
        # the breaker remembers: the next kick does not try at all
        tries = []
        monkeypatch.setattr(outbox_kick_task, "apply_async", lambda *a, **k: tries.append(a))
        assert services.delivery_kick((4, 5)) == 0
        assert tries == []
        # nor does a kick task that reached a worker before the broker went down
        assert outbox_kick_task([6, 7]) == 0

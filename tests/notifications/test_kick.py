"""The after-commit kick. With a cache every process shares, kicks coalesce into one
drain task while none is waiting. Without one, one message is queued as its own delivery
task; many (a fan-out) as one kick task that a worker turns into one delivery task each."""

import time

import pytest
import redis
from django.core.cache import cache

from notifications import services
from notifications.tasks import outbox_deliver_task, outbox_drain_task, outbox_kick_task
from tests.notifications.conftest import CLOSED_PORT_BROKER, celery_broker


@pytest.fixture
def published_coalesced(monkeypatch):
    """(task name, args) of every publish, instead of publishing."""
    calls = []

    def recorder(task):
        def apply_async(args, **kwargs):
            calls.append((task.name.rpartition(".")[2], args))

        return apply_async

    for task in (outbox_deliver_task, outbox_kick_task, outbox_drain_task):
        monkeypatch.setattr(task, "apply_async", recorder(task))
    return calls


@pytest.fixture
def published(monkeypatch, published_coalesced):
    """The same, for kicks as they are without a shared cache."""
    monkeypatch.setattr(services, "_kicks_coalesce", lambda: False)
    return published_coalesced


shared_cache = pytest.mark.skipif(
    not services._kicks_coalesce(), reason="kicks coalesce only in a cache every process shares"
)


@shared_cache
def test_kicks_until_a_drain_starts_publish_that_one_drain(published_coalesced, db):
    # when: events commit one message, then three, then one
    assert services.delivery_kick((7,)) == 1
    assert services.delivery_kick((8, 9, 10)) == 3
    assert services.delivery_kick((11,)) == 1
    # then: one drain was published, for all of them
    assert published_coalesced == [("outbox_drain_task", ())]
    # when: a worker starts it, the next kick publishes another
    services.outbox_drain()
    assert services.delivery_kick((12,)) == 1
    assert published_coalesced == [("outbox_drain_task", ())] * 2


@shared_cache
def test_a_drain_the_broker_refused_leaves_no_flag_behind(monkeypatch, published_coalesced):
    def refused(*args, **kwargs):
        raise OSError("broker down")

    with monkeypatch.context() as patch:
        patch.setattr(outbox_drain_task, "apply_async", refused)
        assert services.delivery_kick((7,)) == 0
    assert cache.get(services.DRAIN_FLAG) is None
    # once the broker is back (the breaker forgets), the next kick publishes the drain
    services.delivery_breaker_reset()
    assert services.delivery_kick((8,)) == 1
    assert published_coalesced == [("outbox_drain_task", ())]


@shared_cache
def test_a_lost_drain_holds_kicks_back_only_while_its_flag_lives(published_coalesced, settings):
    assert services.delivery_kick((7,)) == 1  # its drain is lost: no worker ever starts it
    assert services.delivery_kick((8,)) == 1
    assert published_coalesced == [("outbox_drain_task", ())]
    # the flag expires on its own (Redis keeps the time: removed here as at expiry) ...
    client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    expires_in = client.ttl(cache.make_and_validate_key(services.DRAIN_FLAG))
    assert 0 < expires_in <= services.DRAIN_FLAG_SECONDS
    cache.delete(services.DRAIN_FLAG)
    # ... and the next kick publishes a drain, which reads every pending row
    assert services.delivery_kick((9,)) == 1
    assert published_coalesced == [("outbox_drain_task", ())] * 2


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

"""Delivery to a local receiver: signed, timestamped, retried with backoff and jitter up
to a cap then failed, never following a redirect, never to a private address unless the
development setting allows it, each attempt recorded."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from orders.webhooks import services
from orders.webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus
from orders.webhooks.services import (
    deliveries_due,
    deliveries_retry_now,
    delivery_send,
    endpoint_unsubscribe,
    webhook_event_enqueue,
)
from orders.webhooks.signing import signature_verify
from tests.webhooks.conftest import endpoint_for, resolving


@pytest.fixture
def endpoint(allow_private, receiver, buyer, account):
    return endpoint_for(user=buyer, url=receiver.url, account=account)


@pytest.fixture
def delivery(endpoint, account, kicks):
    (delivery_id,) = webhook_event_enqueue(
        event="order.placed", key="order.placed:7", account=account, data={"order": "SO-7"}
    )
    return Delivery.objects.get(pk=delivery_id)


def test_a_delivery_is_signed_and_the_receiver_can_verify_it(receiver, endpoint, delivery):
    # when
    result = delivery_send(delivery_id=delivery.pk)
    # then
    assert result.outcome == "delivered"
    (request,) = receiver.requests
    headers = request.headers
    assert signature_verify(
        secret=endpoint.secret,
        body=request.body,
        timestamp=headers["X-Trailwise-Timestamp"],
        signature=headers["X-Trailwise-Signature"],
    )
    assert headers["X-Trailwise-Event"] == "order.placed"
    assert request.json["id"] == headers["X-Trailwise-Event-Id"] == str(delivery.event_id)
    assert request.json["data"] == {"order": "SO-7"}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert delivery.delivered_at is not None
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert (attempt.number, attempt.status_code, attempt.error) == (1, 200, "")
    assert attempt.duration_ms is not None
    assert attempt.next_retry_at is None
    # sent once: a second worker on the same row finds nothing to claim
    assert delivery_send(delivery_id=delivery.pk).outcome == "not_claimed"
    assert len(receiver.requests) == 1


def test_a_failure_is_retried_with_growing_jittered_backoff(receiver, delivery):
    receiver.statuses = [500, 503, 200]
    waits = []
    for attempt in (1, 2):
        before = timezone.now()
        result = delivery_send(delivery_id=delivery.pk)
        assert (result.outcome, result.status_code) == ("retry", receiver.statuses[attempt - 1])
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.RETRY
        wait = delivery.next_attempt_at - before
        ceiling = services.BACKOFF_BASE * 2 ** (attempt - 1)
        assert ceiling / 2 - dt.timedelta(seconds=1) <= wait <= ceiling + dt.timedelta(seconds=1)
        waits.append(wait)
        # not due yet: nothing is sent early
        assert delivery_send(delivery_id=delivery.pk).outcome == "not_claimed"
        assert delivery.pk not in deliveries_due()
        assert delivery.pk in deliveries_due(now=delivery.next_attempt_at)
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert delivery_send(delivery_id=delivery.pk).outcome == "delivered"
    attempts = list(DeliveryAttempt.objects.filter(delivery=delivery))
    assert [(a.number, a.status_code) for a in attempts] == [(1, 500), (2, 503), (3, 200)]
    assert attempts[0].error == "HTTP 500"
    assert attempts[0].next_retry_at is not None
    assert len(receiver.requests) == 3
    # every attempt sends the same body and event id
    assert len({request.body for request in receiver.requests}) == 1


def test_backoff_is_capped_and_jittered(monkeypatch):
    monkeypatch.setattr(services.random, "uniform", lambda low, high: high)
    assert services.backoff(1) == services.BACKOFF_BASE
    assert services.backoff(3) == services.BACKOFF_BASE * 4
    assert services.backoff(30) == services.BACKOFF_MAX
    monkeypatch.setattr(services.random, "uniform", lambda low, high: low)
    assert services.backoff(30) == services.BACKOFF_MAX / 2


def test_after_the_last_attempt_the_delivery_is_failed(receiver, delivery):
    receiver.statuses = [500]
    Delivery.objects.filter(pk=delivery.pk).update(attempts=services.MAX_ATTEMPTS - 1)
    result = delivery_send(delivery_id=delivery.pk)
    assert result.outcome == "failed"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.pk not in deliveries_due(now=timezone.now() + dt.timedelta(days=1))
    # customer service's "retry now": a fresh round, sent again
    receiver.statuses = [200]
    assert deliveries_retry_now(delivery_ids=[delivery.pk]) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert delivery_send(delivery_id=delivery.pk).outcome == "delivered"


def test_a_redirect_is_not_followed(receiver, delivery):
    receiver.statuses = [302]
    result = delivery_send(delivery_id=delivery.pk)
    assert (result.outcome, result.status_code) == ("retry", 302)
    assert [request.path for request in receiver.requests] == ["/hooks"]


def test_an_unreachable_receiver_is_an_attempt_with_its_error(allow_private, buyer, account, kicks):
    endpoint_for(user=buyer, url="http://127.0.0.1:9/closed", account=account)
    (delivery_id,) = webhook_event_enqueue(event="order.placed", key="k", account=account, data={})
    assert delivery_send(delivery_id=delivery_id).outcome == "retry"
    attempt = DeliveryAttempt.objects.get(delivery_id=delivery_id)
    assert attempt.status_code is None
    assert "ConnectError" in attempt.error


def test_a_host_that_now_resolves_to_a_private_address_gets_nothing(
    receiver, buyer, account, kicks, monkeypatch
):
    # given an endpoint subscribed while its name resolved to a public address
    resolving(monkeypatch, {"erp.example.com": ["93.184.216.34"]})
    endpoint_for(user=buyer, url=f"http://erp.example.com:{receiver.port}/hooks", account=account)
    (delivery_id,) = webhook_event_enqueue(event="order.placed", key="k", account=account, data={})
    # when the name is rebound to this machine before the delivery
    resolving(monkeypatch, {"erp.example.com": ["127.0.0.1"]})
    result = delivery_send(delivery_id=delivery_id)
    # then nothing is sent there, and the attempt says why
    assert result.outcome == "retry"
    assert receiver.requests == []
    assert "127.0.0.1" in DeliveryAttempt.objects.get(delivery_id=delivery_id).error


def test_the_delivery_connects_to_the_address_it_checked_presenting_the_name(
    allow_private, receiver, buyer, account, kicks, monkeypatch
):
    resolving(monkeypatch, {"erp.example.com": ["127.0.0.1"]})
    endpoint_for(user=buyer, url=f"http://erp.example.com:{receiver.port}/hooks", account=account)
    (delivery_id,) = webhook_event_enqueue(event="order.placed", key="k", account=account, data={})
    assert delivery_send(delivery_id=delivery_id).outcome == "delivered"
    assert receiver.requests[0].headers["Host"] == f"erp.example.com:{receiver.port}"


def test_a_removed_endpoint_gets_nothing_more(receiver, endpoint, delivery):
    endpoint_unsubscribe(endpoint=endpoint)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.CANCELLED
    assert delivery_send(delivery_id=delivery.pk).outcome == "not_claimed"
    assert deliveries_retry_now(delivery_ids=[delivery.pk]) == 0
    assert receiver.requests == []


def test_a_delivery_whose_kick_was_lost_or_worker_died_is_due_for_the_sweep(delivery):
    now = timezone.now()
    assert delivery.pk not in deliveries_due(now=now)  # just written: its kick has it
    assert delivery.pk in deliveries_due(now=now + services.SWEEP_PENDING_GRACE)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, lease_until=now + dt.timedelta(minutes=1)
    )
    assert delivery.pk not in deliveries_due(now=now)
    assert delivery.pk in deliveries_due(now=now + dt.timedelta(minutes=2))


def test_the_sweep_runs_every_minute_from_beat(kicks, delivery):
    from orders.webhooks.tasks import webhook_sweep_task

    entry = next(
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "orders.webhooks.tasks.webhook_sweep_task"
    )
    assert entry["schedule"] == 60.0
    assert webhook_sweep_task.name == entry["task"]
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.RETRY)
    kicks.clear()
    assert webhook_sweep_task.run() == 1
    assert kicks == [delivery.pk]


def test_an_every_account_endpoint_stops_when_its_subscriber_loses_the_right(
    allow_private, receiver, account, kicks
):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    erp = UserFactory()
    erp.user_permissions.add(Permission.objects.get(codename="receive_all_accounts"))
    endpoint_for(user=erp, url=receiver.url, account=None)
    first, second = (
        webhook_event_enqueue(event="order.placed", key=key, account=account, data={})[0]
        for key in ("a", "b")
    )
    assert delivery_send(delivery_id=first).outcome == "delivered"
    erp.user_permissions.clear()
    result = delivery_send(delivery_id=second)
    assert result.outcome == "cancelled"
    assert "no longer" in result.error
    assert len(receiver.requests) == 1


def test_a_closed_accounts_endpoint_gets_nothing(receiver, account, delivery):
    account.is_active = False
    account.save(update_fields=["is_active"])
    assert delivery_send(delivery_id=delivery.pk).outcome == "cancelled"
    assert receiver.requests == []

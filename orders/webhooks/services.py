"""Write use cases of webhooks: subscribe, unsubscribe, enqueue an event (inside the
event's transaction), deliver (signed POST, retried with backoff), sweep, retry now."""

import functools
import json
import logging
import random
import secrets
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from notifications.services import task_publish
from orders.webhooks import locks
from orders.webhooks.addresses import target_resolve
from orders.webhooks.events import WebhookEvent
from orders.webhooks.exceptions import UnsafeWebhookURL, WebhookInputError
from orders.webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Endpoint
from orders.webhooks.payloads import order_data
from orders.webhooks.selectors import ALL_ACCOUNTS_PERMISSION, endpoints_hearing
from orders.webhooks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_compute

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
# Retry n waits a random time between half and all of BACKOFF_BASE * 2**(n-1), capped:
# about 30 s, 1, 2, 4, 8, 16, 32, 64 minutes, then 2 hours; jitter spreads a receiver's
# backlog instead of retrying it all at one instant.
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=2)
# A pending row younger than this is left to its after-commit kick, not the sweep.
SWEEP_PENDING_GRACE = timedelta(seconds=45)
SWEEP_BATCH = 500
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_ENDPOINTS_PER_ACCOUNT = 10
EVENT_ID_NAMESPACE = uuid.UUID("6f1c63a4-3f0e-4a7c-9b53-2f4a2f0c9d11")


# --------------------------------------------------------------------- subscriptions


@dataclass(frozen=True)
class Subscription:
    endpoint: Endpoint
    secret: str  # shown to the subscriber once, in the create response


def _events_validate(events, errors) -> list[str]:
    if not isinstance(events, list | tuple) or not events:
        errors["events"] = [f"Name at least one event: {', '.join(WebhookEvent.values)}."]
        return []
    unknown = [str(event) for event in events if event not in WebhookEvent.values]
    if unknown:
        errors["events"] = [
            f"Unknown event(s) {', '.join(unknown)}; choose from {', '.join(WebhookEvent.values)}."
        ]
        return []
    return sorted(set(events))


def endpoint_subscribe(*, user, url: str, events, account) -> Subscription:
    """Subscribe ``url`` to ``events`` of ``account`` (a visible account, checked by the
    caller), or of every account when ``account`` is None, which needs the
    webhooks.receive_all_accounts permission. The URL must be public (addresses): it is
    resolved before any transaction opens, so none waits on DNS."""
    errors = {}
    events = _events_validate(events, errors)
    try:
        target_resolve(url)
    except UnsafeWebhookURL as exc:
        errors["url"] = [str(exc)]
    if account is None and not user.has_perm(ALL_ACCOUNTS_PERMISSION):
        errors["account"] = ["Name one of your accounts."]
    elif (
        account is not None
        and Endpoint.objects.filter(account=account, deleted_at=None).count()
        >= MAX_ENDPOINTS_PER_ACCOUNT
    ):
        errors["account"] = [f"An account has at most {MAX_ENDPOINTS_PER_ACCOUNT} endpoints."]
    if errors:
        raise WebhookInputError(errors)
    secret = f"whsec_{secrets.token_urlsafe(32)}"
    with transaction.atomic(durable=True):
        endpoint = Endpoint.objects.create(
            url=url, events=events, account=account, secret=secret, created_by=user
        )
    return Subscription(endpoint, secret)


@transaction.atomic(durable=True)
def endpoint_unsubscribe(*, endpoint: Endpoint) -> None:
    """Stop sending to the endpoint; what was still waiting is cancelled. The endpoint
    and its deliveries stay for the admin's history."""
    now = timezone.now()
    Endpoint.objects.filter(pk=endpoint.pk, deleted_at=None).update(deleted_at=now)
    Delivery.objects.filter(
        endpoint=endpoint, status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRY]
    ).update(status=DeliveryStatus.CANCELLED, last_error="Endpoint removed.")


# --------------------------------------------------------------------------- enqueue


def event_id_for(key: str) -> uuid.UUID:
    """The event's id, the same for every endpoint and every re-run of the event."""
    return uuid.uuid5(EVENT_ID_NAMESPACE, key)


@dataclass(frozen=True)
class Event:
    """One event for webhook_events_enqueue."""

    event: str
    key: str  # names the event, e.g. "order.placed:<order id>"
    account: object
    data: dict


def webhook_event_enqueue(*, event: str, key: str, account, data: dict) -> list[int]:
    """Write one delivery per live endpoint subscribed to ``event`` for this account (its
    own or every-account endpoints), in the caller's transaction, and kick them after it
    commits. Call it inside the event's transaction: a rollback writes and sends
    nothing. The same ``key`` again writes nothing new. Returns the ids of the deliveries
    this call wrote."""
    return webhook_events_enqueue(events=[Event(event, key, account, data)])


@transaction.atomic(savepoint=False)
def webhook_events_enqueue(*, events: Iterable[Event]) -> list[int]:
    """webhook_event_enqueue for many events (an ETA change's, one per account) in the
    same number of queries whatever their number."""
    events = [(WebhookEvent(item.event), item) for item in events]
    if not events:
        return []
    endpoints = list(endpoints_hearing(account_id__in={item.account.pk for _, item in events}))
    now = timezone.now()
    rows = []
    for event, item in events:
        targets = [
            endpoint
            for endpoint in endpoints
            if endpoint.account_id in (None, item.account.pk) and endpoint.receives(event)
        ]
        if not targets:
            continue
        event_id = event_id_for(item.key)
        payload = json.loads(
            json.dumps(
                {
                    "id": str(event_id),
                    "type": event.value,
                    "created_at": now.isoformat(),
                    "account": item.account.number,
                    "data": item.data,
                }
            )
        )
        rows.extend(
            Delivery(
                key=f"{item.key}:{endpoint.pk}",
                endpoint=endpoint,
                event_id=event_id,
                event=event,
                payload=payload,
                next_attempt_at=now,
                created_at=now,
            )
            for endpoint in targets
        )
    if not rows:
        return []
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    # Only the rows this call wrote: a re-run of an event finds its older rows.
    written = tuple(
        Delivery.objects.filter(key__in=[row.key for row in rows], created_at=now).values_list(
            "pk", flat=True
        )
    )
    if written:
        transaction.on_commit(functools.partial(deliveries_kick, written), robust=True)
    return list(written)


def orders_changed_enqueue(*, order_ids, cause: str) -> list[int]:
    """order.changed (order.cancelled when nothing is left open) for each of these
    orders, as they now stand, after the brand or the retailer's answer changed their
    lines outside an order's own service (the sweep, a decision, a cancelled run). The
    key holds ``cause`` and the order's lines' state, so a re-run tells nothing twice.
    One query when no endpoint listens, a fixed number otherwise."""
    from orders.models import Order, OrderLine, OrderStatus

    order_ids = set(order_ids)
    listening = Endpoint.objects.filter(
        Q(account__orders__in=order_ids) | Q(account__isnull=True), deleted_at=None
    )
    if not order_ids or not listening.exists():
        return []
    lines = defaultdict(list)
    for line in OrderLine.objects.filter(order_id__in=order_ids).select_related("sku"):
        lines[line.order_id].append(line)
    events = []
    for order in Order.objects.filter(pk__in=order_ids).select_related("account"):
        event = (
            WebhookEvent.ORDER_CANCELLED
            if order.status == OrderStatus.CANCELLED
            else WebhookEvent.ORDER_CHANGED
        )
        mine = lines[order.pk]
        state = (len(mine), sum(x.cancelled for x in mine), sum(x.backordered for x in mine))
        events.append(
            Event(
                event,
                f"{event}:{order.pk}:{cause}:{':'.join(map(str, state))}",
                order.account,
                order_data(order=order, lines=mine),
            )
        )
    return webhook_events_enqueue(events=events)


def deliveries_kick(delivery_ids: Iterable[int]) -> int:
    """Queue each delivery's task; never raises (the sweep delivers what is not queued)."""
    from orders.webhooks.tasks import webhook_deliver_task

    queued = 0
    for delivery_id in delivery_ids:
        if not task_publish(webhook_deliver_task, (delivery_id,)):
            break
        queued += 1
    return queued


# -------------------------------------------------------------------------- delivery


@dataclass(frozen=True)
class DeliveryResult:
    delivery_id: int
    outcome: str  # "delivered", "retry", "failed", "cancelled", "not_claimed"
    status_code: int | None = None
    error: str = ""


def backoff(attempts: int) -> timedelta:
    """How long to wait after the given number of failed attempts, with jitter."""
    ceiling = min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)
    return ceiling * random.uniform(0.5, 1.0)


def delivery_body(delivery: Delivery) -> bytes:
    """The exact bytes signed and sent: the same on every attempt."""
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()


def _post(*, url: str, body: bytes, headers: dict) -> int:
    """POST to the checked address of ``url``'s host (resolved now, every address
    public), presenting the host name for HTTP and TLS. No redirects, no proxies from
    the environment, the body of the answer never read."""
    target = target_resolve(url)
    request_url = httpx.URL(url).copy_with(host=str(target.address))
    headers = {**headers, "Host": urlsplit(url).netloc}
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    with (
        httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client,
        client.stream(
            "POST", request_url, content=body, headers=headers, extensions=extensions
        ) as response,
    ):
        return response.status_code


def _not_sendable_because(endpoint: Endpoint) -> str:
    """Why nothing may go to this endpoint any more ("" if it may): removed, its account
    closed, or, for an every-account endpoint, its subscriber no longer allowed that."""
    if endpoint.deleted_at is not None:
        return "Endpoint removed."
    if endpoint.account_id is not None:
        return "" if endpoint.account.is_active else "The account is closed."
    subscriber = endpoint.created_by
    if subscriber is None or not subscriber.is_active:
        return "The subscriber is no longer active."
    if not subscriber.has_perm(ALL_ACCOUNTS_PERMISSION):
        return "The subscriber no longer receives every account's events."
    return ""


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> DeliveryResult:
    """Send one delivery once: claim it (committed), POST it signed, then record the
    attempt and mark it delivered / to retry / failed, conditional on still holding the
    claim. Not one transaction: none may stay open over the network."""
    now = now or timezone.now()
    token = locks.delivery_claim(delivery_id=delivery_id, now=now)
    if token is None:
        return DeliveryResult(delivery_id, "not_claimed")
    delivery = Delivery.objects.select_related("endpoint__account", "endpoint__created_by").get(
        pk=delivery_id
    )
    owned = Delivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.SENDING, claim_token=token
    )
    endpoint = delivery.endpoint
    refused = _not_sendable_because(endpoint)
    if refused:
        owned.update(status=DeliveryStatus.CANCELLED, lease_until=None, last_error=refused)
        return DeliveryResult(delivery_id, "cancelled", error=refused)

    body = delivery_body(delivery)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Trailwise-Webhooks/1",
        "X-Trailwise-Event": delivery.event,
        "X-Trailwise-Event-Id": str(delivery.event_id),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature_compute(secret=endpoint.secret, timestamp=timestamp, body=body),
    }
    started = time.monotonic()
    status_code, error = None, ""
    try:
        status_code = _post(url=endpoint.url, body=body, headers=headers)
    except UnsafeWebhookURL as exc:
        error = str(exc)
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
    duration_ms = int((time.monotonic() - started) * 1000)
    if status_code is not None and 200 <= status_code < 300:
        outcome = "delivered"
    else:
        error = error or f"HTTP {status_code}"
        outcome = "failed" if delivery.attempts >= MAX_ATTEMPTS else "retry"
    next_retry = timezone.now() + backoff(delivery.attempts) if outcome == "retry" else None
    return _attempt_record(
        owned=owned,
        delivery=delivery,
        started_at=now,
        outcome=outcome,
        status_code=status_code,
        duration_ms=duration_ms,
        error=error,
        next_retry=next_retry,
    )


@transaction.atomic(durable=True)
def _attempt_record(
    *, owned, delivery, started_at, outcome, status_code, duration_ms, error, next_retry
) -> DeliveryResult:
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        started_at=started_at,
        status_code=status_code,
        duration_ms=duration_ms,
        error=error,
        next_retry_at=next_retry,
    )
    fields = {"lease_until": None, "last_status_code": status_code, "last_error": error}
    if outcome == "delivered":
        fields |= {"status": DeliveryStatus.DELIVERED, "delivered_at": timezone.now()}
    elif outcome == "retry":
        fields |= {"status": DeliveryStatus.RETRY, "next_attempt_at": next_retry}
    else:
        fields |= {"status": DeliveryStatus.FAILED}
        logger.warning(
            "Webhook delivery %s failed after %d attempts: %s",
            delivery.pk,
            delivery.attempts,
            error,
        )
    if not owned.update(**fields):
        logger.warning("Webhook delivery %s: its claim was taken over.", delivery.pk)
    return DeliveryResult(delivery.pk, outcome, status_code, error)


def deliveries_due(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> list[int]:
    """What the sweep queues: retries whose time has come, pending rows whose kick was
    lost (broker down at commit), rows whose worker died mid-send. At most ``limit``,
    most overdue first."""
    now = now or timezone.now()
    return list(
        Delivery.objects.filter(
            Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now - SWEEP_PENDING_GRACE)
            | Q(status=DeliveryStatus.RETRY, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.SENDING, lease_until__lt=now)
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic(durable=True)
def deliveries_retry_now(*, delivery_ids: Iterable[int]) -> int:
    """Customer service: send failed or waiting deliveries again now (a receiver is
    fixed). A failed one gets a fresh round of attempts. Delivered, cancelled and
    in-flight rows are left alone. Returns how many were queued."""
    now = timezone.now()
    retryable = Delivery.objects.filter(
        pk__in=list(delivery_ids),
        status__in=[DeliveryStatus.FAILED, DeliveryStatus.RETRY, DeliveryStatus.PENDING],
        endpoint__deleted_at=None,
    )
    ids = tuple(retryable.values_list("pk", flat=True))
    Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.FAILED).update(attempts=0)
    Delivery.objects.filter(pk__in=ids).update(status=DeliveryStatus.PENDING, next_attempt_at=now)
    if ids:
        transaction.on_commit(functools.partial(deliveries_kick, ids), robust=True)
    return len(ids)

"""Thin Celery wrappers around orders.webhooks.services.

The outbox owns retry timing (status "retry" with next_attempt_at, picked up by the
sweep every minute); Celery's autoretry covers only the database being briefly away.
A delivery run twice sends once (the claim), so both tasks are acks_late."""

from celery import shared_task
from django.db import DatabaseError

from notifications.tasks import OUTBOX_DELIVER_OPTIONS
from orders.webhooks import services


# Its limits are above the HTTP timeouts (services.TIMEOUT), below locks.LEASE.
@shared_task(**OUTBOX_DELIVER_OPTIONS)
def webhook_deliver_task(delivery_id: int) -> str:
    return services.delivery_send(delivery_id=delivery_id).outcome


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=3)
def webhook_sweep_task() -> int:
    """Every minute (beat): queue the due deliveries, each its own task, so one slow
    receiver never holds up the others. A row queued twice is sent once (the claim)."""
    return services.deliveries_kick(services.deliveries_due(limit=services.SWEEP_BATCH))

"""Thin Celery wrappers around notifications.services.

Delivery is safe to run twice (the claim makes it at-most-once), so the delivery and
sweep tasks are acks_late: a worker killed mid-task leaves the message to be redone.
The outbox, not Celery, owns retry timing for SMTP failures (status "retry" with
next_attempt_at, picked up by the sweep); Celery's autoretry covers the database
being briefly unreachable.
"""

from celery import shared_task
from django.db import DatabaseError

from notifications import services

# How an outbox row's delivery task runs (webhook deliveries too): the database briefly
# away is retried; the hard limit must stay below the claim's lease (locks.LEASE) so a
# live worker is never overtaken.
OUTBOX_DELIVER_OPTIONS = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 5,
    "acks_late": True,
    "soft_time_limit": 60,
    "time_limit": 90,
}


@shared_task(**OUTBOX_DELIVER_OPTIONS)
def outbox_deliver_task(message_id: int) -> str:
    return services.message_deliver(message_id=message_id).outcome


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def outbox_kick_task(message_ids: list[int]) -> int:
    """Queue the delivery of many messages written by one event (a fan-out). Run twice,
    it queues them twice: harmless, the claim sends each once. Any not queued are left
    to the sweep."""
    return services.deliveries_queue(message_ids)


# A batch of deliveries: the sweep's, and the coalesced kicks' drain.
OUTBOX_BATCH_OPTIONS = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": True,
    "max_retries": 3,
    "acks_late": True,
    "soft_time_limit": 240,
    "time_limit": 300,
}


@shared_task(**OUTBOX_BATCH_OPTIONS)
def outbox_drain_task() -> int:
    """The coalesced kicks' delivery: every pending row (services.delivery_kick)."""
    return len(services.outbox_drain())


@shared_task(**OUTBOX_BATCH_OPTIONS)
def outbox_sweep_task() -> int:
    results = services.outbox_sweep(limit=services.SWEEP_BATCH)
    if len(results) >= services.SWEEP_BATCH:
        # More may be due: go again rather than hold one task for long.
        outbox_sweep_task.apply_async(countdown=1)
    return len(results)


@shared_task(
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=3,
    acks_late=True,
    soft_time_limit=600,
    time_limit=900,
)
def digest_send_task() -> int:
    return len(services.digest_send_all())

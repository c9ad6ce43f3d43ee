"""Thin Celery wrappers: beat starts them (portal/settings.py CELERY_BEAT_SCHEDULE), each
call does one batch through a service and re-queues itself while work remains. All of
them are idempotent (state is checked under lock in the WHERE clause; messages are keyed
by the event), so they are acks_late: a worker lost mid-task leaves it to be redone.
Deadlines live in the database and beat scans for them: no long countdowns."""

from celery import shared_task
from django.db import DatabaseError, OperationalError

from backorders import services

BATCH_SIZE = services.sweep.DEFAULT_BATCH
RETRY = {
    "autoretry_for": (DatabaseError, OperationalError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,
}


@shared_task(soft_time_limit=120, time_limit=180, **RETRY)
def backorder_sweep_task(batch_size: int = BATCH_SIZE) -> dict:
    result = services.backorder_sweep(batch_size=batch_size)
    if result.more:
        backorder_sweep_task.apply_async(kwargs={"batch_size": batch_size})
    return {
        "defaulted": result.decisions_defaulted,
        "cancelled": result.lines_cancelled,
        "told": result.accounts_told,
        "more": result.more,
    }


@shared_task(soft_time_limit=120, time_limit=180, **RETRY)
def decision_expire_task(batch_size: int = BATCH_SIZE) -> dict:
    result = services.decision_expire(batch_size=batch_size)
    if result.more and result.decisions_defaulted:
        decision_expire_task.apply_async(kwargs={"batch_size": batch_size})
    return {"defaulted": result.decisions_defaulted, "more": result.more}


@shared_task(soft_time_limit=1200, time_limit=1500, **RETRY)
def reconcile_task() -> dict:
    report = services.reconcile(repair=True)
    return {
        "drifts": len(report.drifts),
        "repaired": sum(1 for drift in report.drifts if drift.repaired),
        "beyond_window": len(report.beyond_window),
    }


@shared_task(soft_time_limit=600, time_limit=900, **RETRY)
def overdue_runs_check_task() -> dict:
    result = services.overdue_runs_check()
    return {
        "detected": len(result.detected),
        "changed": len(result.changed),
        "waiting": result.waiting,
    }


@shared_task(soft_time_limit=120, time_limit=180, **RETRY)
def promise_day_record_task() -> dict:
    day = services.promise_day_record()
    return {"day": day.day.isoformat(), "pairs_past_window": day.pairs_past_window}

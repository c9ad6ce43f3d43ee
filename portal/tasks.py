"""Thin Celery wrappers around portal.services."""

from celery import shared_task
from django.db import DatabaseError

from portal import services


@shared_task(
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
    soft_time_limit=30,
    time_limit=60,
)
def password_reset_send_task(email: str, request_id: str) -> int:
    return services.password_reset_send(email=email, request_id=request_id)

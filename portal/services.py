"""Write use cases of the portal's own: asking for a password reset, and telling a user
their password was changed."""

import hashlib
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from notifications.kinds import MessageKind
from notifications.services import message_enqueue, task_publish


def password_reset_request(*, email: str) -> None:
    """Ask for the reset email of whoever signs in with `email`, if anyone.

    The request does the same work whether the address is known or not: it publishes
    one task carrying the address and returns. The worker looks the address up and
    writes the email to the outbox (password_reset_send), so neither the answer nor its
    time tells an address that has an account from one that has not. With the broker
    down the task cannot be published; the lookup and the outbox row are then written
    here, and the outbox sweep delivers them."""
    from portal.tasks import password_reset_send_task

    request_id = uuid.uuid4().hex
    if not task_publish(password_reset_send_task, (email, request_id)):
        password_reset_send(email=email, request_id=request_id)


@transaction.atomic(durable=True)
def password_reset_send(*, email: str, request_id: str) -> int:
    """Write the reset email for each active user with a password who signs in with
    `email` (sign-in matches it case-insensitively). Keyed by the request, so running
    it twice sends once. Returns how many were written."""
    users = [
        user
        for user in get_user_model()._default_manager.filter(email__iexact=email, is_active=True)
        if user.has_usable_password()
    ]
    return len(
        message_enqueue(
            kind=MessageKind.PASSWORD_RESET,
            key=f"password-reset:{request_id}",
            recipients=users,
            context={},
        )
    )


@transaction.atomic(durable=True)
def password_changed_notify(*, user) -> None:
    """Tell the user by email that their password was changed or reset, so that someone
    who did not do it can act. Keyed by the new password's hash: once per change."""
    changed = hashlib.sha256(user.password.encode()).hexdigest()[:24]
    message_enqueue(
        kind=MessageKind.PASSWORD_CHANGED,
        key=f"password-changed:{user.pk}:{changed}",
        recipients=[user],
        context={
            "changed_at": timezone.localtime().isoformat(timespec="minutes"),
            "reset_url": settings.SITE_URL.rstrip("/") + reverse("password_reset"),
        },
    )

"""The only place rows of this app are locked or claimed.

Delivery is at most once per row because a worker must first *claim* it with one
conditional UPDATE: status pending/retry (and due) -> sending, or a sending row whose
lease has expired. PostgreSQL re-evaluates the WHERE clause after waiting on a
concurrent writer's row lock, so of two workers claiming the same row exactly one gets
``1`` back; the other sees the row already in "sending" and gets ``0``.

The claim commits before any SMTP traffic: no transaction is held open over the
network. The trade-off is the window between the mail server accepting the message
and the row being marked sent: a worker that dies exactly there leaves the row in
"sending", and when its lease expires the sweep sends it again. We keep that window as
small as we can: the lease (``LEASE``) is longer than the task's hard time limit, so a
live worker is never overtaken; the mark-sent UPDATE is the very next statement after
the SMTP ``DATA`` is accepted; and every attempt carries the same Message-ID header, so
mail clients that de-duplicate by it show one message.
"""

import uuid
from datetime import datetime, timedelta

from django.db.models import F, Q

from notifications.models import Message, MessageStatus

# Must exceed outbox_deliver_task's hard time limit (see tasks.py).
LEASE = timedelta(minutes=5)


def message_claim(*, message_id: int, now: datetime) -> str | None:
    """Claim one row for delivery. Returns the claim token, or None if the row is not
    claimable (gone, already sent or being sent, not due yet, held for a digest)."""
    return outbox_row_claim(
        rows=Message.objects.filter(pk=message_id),
        now=now,
        lease=LEASE,
        waiting=[MessageStatus.PENDING, MessageStatus.RETRY],
        sending=MessageStatus.SENDING,
    )


def outbox_row_claim(*, rows, now: datetime, lease: timedelta, waiting, sending) -> str | None:
    """The claim of any outbox (messages here, webhook deliveries in orders.webhooks):
    ``rows`` (one row's queryset) moves from a ``waiting`` status that is due, or from
    ``sending`` with an expired lease, to ``sending`` under a new token, its attempts
    counted. The model needs status, next_attempt_at, lease_until, claim_token and
    attempts. Returns the token, or None if the row was not claimable."""
    token = uuid.uuid4().hex
    claimed = rows.filter(
        Q(status__in=waiting, next_attempt_at__lte=now) | Q(status=sending, lease_until__lt=now)
    ).update(
        status=sending,
        lease_until=now + lease,
        claim_token=token,
        attempts=F("attempts") + 1,
    )
    return token if claimed else None


def held_messages_for_update(*, recipient_id: int, limit: int):
    """The recipient's messages held for the digest, locked (oldest first, by pk), and
    skipping rows another digest run holds. Call inside a transaction."""
    return list(
        Message.objects.select_for_update(skip_locked=True)
        .filter(recipient_id=recipient_id, status=MessageStatus.HELD)
        .order_by("pk")[:limit]
    )

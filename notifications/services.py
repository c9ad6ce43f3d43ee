"""Write use cases of the outbox: enqueue (inside the caller's transaction), deliver,
sweep, digest, resend, mark read, preferences."""

import functools
import json
import logging
import reprlib
import smtplib
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone

from notifications import locks
from notifications.exceptions import (
    InvalidMessageContext,
    InvalidMessageKey,
    NotResendable,
    PermanentDeliveryError,
    UnknownMessageKind,
)
from notifications.kinds import MessageKind, configurable_kinds, spec_for
from notifications.models import DeliveryMode, Message, MessageStatus, NotificationPreference
from notifications.rendering import base_context, render_message, render_subject

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# Retry n waits BACKOFF_BASE * 2**(n-1), capped: 1, 2, 4, 8, 16, 32, 60, 60 minutes.
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
# A pending row younger than this is left to its after-commit kick, not the sweep.
SWEEP_PENDING_GRACE = timedelta(seconds=45)
SWEEP_BATCH = 50
DIGEST_MAX_ITEMS = 200
KEY_MAX = 255


# --------------------------------------------------------------------------- enqueue


def _check_json(value, path: str) -> None:
    """Raise InvalidMessageContext naming the first value that is not plain JSON."""
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidMessageContext(f"{path} is {value!r}: not valid JSON.")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidMessageContext(f"{path} has a non-string key {k!r}.")
            _check_json(v, f"{path}[{k!r}]")
        return
    if isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check_json(v, f"{path}[{i}]")
        return
    raise InvalidMessageContext(
        f"{path} is a {type(value).__name__} ({value!r}): pass JSON values only "
        "(dates as ISO strings, money as decimal strings)."
    )


def _kind_checked(kind: str) -> MessageKind:
    try:
        kind = MessageKind(kind)
    except ValueError:
        raise UnknownMessageKind(f"Unknown message kind {kind!r}.") from None
    if kind == MessageKind.DIGEST:
        raise UnknownMessageKind("Digests are written by the digest job, not enqueued.")
    return kind


def _context_stored(kind: MessageKind, context: dict) -> dict:
    """The context as it is stored and later rendered (tuples become lists), or
    InvalidMessageContext naming what is wrong with it."""
    if not isinstance(context, dict):
        raise InvalidMessageContext("context must be a dict.")
    try:
        stored = json.loads(json.dumps(context, allow_nan=False))
    except (TypeError, ValueError):
        stored = None
    # json.dumps quietly turns int keys into strings: only an exact round trip is
    # plain JSON. Anything else is walked to name the value at fault.
    if stored != context:
        _check_json(context, "context")
    missing = [name for name in spec_for(kind).required if name not in context]
    if missing:
        raise InvalidMessageContext(
            f"context for {kind.value} is missing {', '.join(repr(m) for m in missing)}."
        )
    return stored


def _email_status(*, user, kind: str, preferences: dict) -> MessageStatus:
    if not user.is_active or not user.email:
        return MessageStatus.SKIPPED
    if spec_for(kind).always_immediate:
        return MessageStatus.PENDING
    pref = preferences.get(user.pk)
    if pref is None:
        return MessageStatus.PENDING
    if not pref.enabled:
        return MessageStatus.SKIPPED
    return MessageStatus.HELD if pref.mode == DeliveryMode.DIGEST else MessageStatus.PENDING


@dataclass(frozen=True)
class OutgoingMessage:
    """One event's message for messages_enqueue: its key, who receives it, what it says."""

    key: str
    recipients: Iterable
    context: dict
    subject_hint: str = ""


@dataclass(frozen=True)
class _Row:
    kind: str
    key: str
    user: object
    context: dict
    subject: str


def message_enqueue(
    *,
    kind: str,
    key: str,
    recipients: Iterable,
    context: dict,
    subject_hint: str = "",
    new_event: bool = False,
    preferences: dict | None = None,
) -> list[Message]:
    """Write one outbox row per recipient, keyed f"{key}:{user.pk}", in the caller's
    transaction, and kick delivery after it commits.

    Call it inside the transaction of the event that causes the message: if that
    transaction rolls back, nothing is written and nothing is sent. A second call with
    the same key (a re-run of the event) writes nothing new and sends nothing twice.
    ``context`` is plain JSON (see notifications.kinds for each kind's schema);
    ``subject_hint``, when given, is used as the subject instead of the kind's subject
    template. Returns the rows for these keys (new or already there), ordered by
    recipient. Whether the broker is up or not never affects the caller: the kick
    gives up within about two seconds and the periodic sweep delivers instead.
    ``new_event``: the key names an event this transaction created (an order's pk), so
    no row can have it yet; the rows are written without the conflict check and its
    re-read.
    ``preferences``: recipients' preferences for this kind that the caller read with its
    own rows (user id -> NotificationPreference, None for none; notifications.selectors.
    preference_columns); only the users missing from it are read.
    """
    return messages_enqueue(
        kind=kind,
        messages=[OutgoingMessage(key, recipients, context, subject_hint)],
        new_event=new_event,
        preferences=preferences,
    )


def messages_enqueue(
    *,
    kind: str,
    messages: Iterable[OutgoingMessage],
    new_event: bool = False,
    preferences: dict | None = None,
) -> list[Message]:
    """message_enqueue for many events' messages of one kind at once (an ETA change's
    message to each account, the sweep's): every message is checked first, then one
    insert, one re-read and one kick after commit for all of them, with the same
    guarantees per key. Returns the rows in the order given, each event's by recipient."""
    rows = _rows_checked(kind=kind, messages=messages, base=base_context())
    if not rows:
        return []
    known = {rows[0].kind: preferences} if preferences else None
    return _messages_write(rows=rows, new_event=new_event, known=known)


def kinds_messages_enqueue(
    *, messages: Iterable[tuple[str, OutgoingMessage]], new_event: bool = False
) -> list[Message]:
    """messages_enqueue for one event's messages of several kinds ((kind, message) pairs:
    a shipment's notice and its invoice's), with one preferences read, one insert and
    one kick for all of them. Returns the rows in the order given."""
    base = base_context()
    rows = [
        row
        for kind, message in messages
        for row in _rows_checked(kind=kind, messages=[message], base=base)
    ]
    return _messages_write(rows=rows, new_event=new_event) if rows else []


def _rows_checked(*, kind: str, messages: Iterable[OutgoingMessage], base: dict) -> list[_Row]:
    """Each message's outbox rows, one per recipient; every check that could fail runs
    here, before anything is written."""
    kind = _kind_checked(kind)
    rows = []
    for message in messages:
        if not message.key or not message.key.strip():
            raise InvalidMessageKey("A message key is required (e.g. the event's id).")
        context = _context_stored(kind, message.context)
        recipients = sorted({user.pk: user for user in message.recipients}.items())
        if not recipients:
            continue
        subject = render_subject(
            kind=kind, context=context, subject_hint=message.subject_hint, base=base
        )
        for user_pk, user in recipients:
            row_key = f"{message.key}:{user_pk}"
            if len(row_key) > KEY_MAX:
                raise InvalidMessageKey(f"Message key {row_key[:60]!r}... is over {KEY_MAX} chars.")
            rows.append(_Row(kind, row_key, user, context, subject))
    return rows


def message_rows(
    *,
    kind: str,
    key: str,
    recipients: Iterable,
    context: dict,
    preferences: dict | None = None,
    pks=(),
) -> list[Message]:
    """message_enqueue's rows for a new event (``new_event``), checked and built but not
    written: for a caller that writes them with its own rows in one round trip (a
    placement, with its order's) and then calls messages_written. ``pks``: one for each
    recipient (drawn from the table's sequence), or none. Preferences missing from
    ``preferences`` are read here."""
    rows = _rows_checked(
        kind=kind, messages=[OutgoingMessage(key, recipients, context)], base=base_context()
    )
    known = {rows[0].kind: preferences} if rows and preferences else None
    messages = _messages_built(rows=rows, known=known)
    if len(pks) == len(messages):
        for message, pk in zip(messages, pks, strict=True):
            message.pk = pk
    return messages


def messages_written(messages: Iterable[Message]) -> None:
    """Rows of message_rows, now written by the caller: those pending are kicked once the
    transaction commits."""
    _kick_on_commit(messages, created_at=None)


def _messages_built(*, rows: list[_Row], known: dict | None = None) -> list[Message]:
    """The rows as Message instances, not written, each with the status its recipient's
    preference gives. ``known``: {kind: {user id: preference or None}} the caller read;
    the other recipients' preferences are read, every kind's in one query."""
    known = known or {}
    preferences = defaultdict(dict)  # kind -> {user id: preference}
    for kind, prefs in known.items():
        preferences[kind].update((user_id, pref) for user_id, pref in prefs.items() if pref)
    unknown = {
        (row.kind, row.user.pk) for row in rows if row.user.pk not in known.get(row.kind, {})
    }
    if unknown:
        for pref in NotificationPreference.objects.filter(
            user__in={user_id for _, user_id in unknown}, kind__in={kind for kind, _ in unknown}
        ):
            if (pref.kind, pref.user_id) in unknown:
                preferences[MessageKind(pref.kind)][pref.user_id] = pref
    now = timezone.now()
    return [
        Message(
            key=row.key,
            kind=row.kind,
            recipient=row.user,
            to_email=row.user.email or "",
            subject=row.subject,
            context=row.context,
            status=_email_status(user=row.user, kind=row.kind, preferences=preferences[row.kind]),
            next_attempt_at=now,
            created_at=now,
        )
        for row in rows
    ]


def _kick_on_commit(messages, *, created_at) -> None:
    """Delivery of the pending rows among ``messages`` (those created at ``created_at``,
    when given) kicked after the commit."""
    to_kick = tuple(
        m.pk
        for m in messages
        if m.status == MessageStatus.PENDING and (created_at is None or m.created_at == created_at)
    )
    if to_kick:
        transaction.on_commit(functools.partial(delivery_kick, to_kick), robust=True)


@transaction.atomic(savepoint=False)
def _messages_write(
    *, rows: list[_Row], new_event: bool, known: dict | None = None
) -> list[Message]:
    """The write half of messages_enqueue: part of the caller's transaction. Checks
    that could fail happen before, so a bad call never poisons the caller's
    transaction. ``known``: see _messages_built."""
    built = _messages_built(rows=rows, known=known)
    written = Message.objects.bulk_create(built, ignore_conflicts=not new_event)
    if new_event:
        messages = written
    else:
        position = {row.key: index for index, row in enumerate(rows)}
        # The contexts were just written (or are the event's, written before): not read back.
        messages = sorted(
            Message.objects.filter(key__in=position).defer("context"),
            key=lambda message: position[message.key],
        )
    # Only rows this transaction wrote can still be pending-and-unkicked; an older
    # pending row has its own kick or the sweep.
    _kick_on_commit(messages, created_at=built[0].created_at if built else None)
    return messages


# ---------------------------------------------------------------------- the kick

_BREAKER_SECONDS = 30.0
_breaker = {"open_until": 0.0}


# While a drain is queued and has not started, its flag in the shared cache stands for
# it: a kick that finds the flag publishes nothing (the drain reads every row committed
# before it starts). The flag outlives a lost drain by at most this long, and the sweep
# delivers what such a drain would have.
DRAIN_FLAG = "notifications:outbox-drain-queued"
DRAIN_FLAG_SECONDS = 30


def delivery_kick(message_ids: tuple[int, ...]) -> int:
    """Queue delivery after commit; never raises, never blocks for long.

    With a cache every process shares (Redis), kicks coalesce into outbox_drain_task:
    one publish while none is waiting, else one cache write, whatever the number of
    messages and of events committing at once. Without one (the embedded default, or
    Redis not answering), one message is queued as its delivery task, and many (a
    fan-out) as one outbox_kick_task that queues their delivery tasks from a worker.
    Returns how many messages' delivery was queued (directly or through a task)."""
    from notifications.tasks import outbox_kick_task

    if _kicks_coalesce():
        return len(message_ids) if outbox_drain_queue() else 0
    if len(message_ids) == 1:
        return deliveries_queue(message_ids)
    return len(message_ids) if task_publish(outbox_kick_task, (list(message_ids),)) else 0


def _kicks_coalesce() -> bool:
    """Whether the drain's flag is seen by every process: the workers clear it."""
    return getattr(cache, "is_shared", lambda: False)()


def outbox_drain_queue() -> bool:
    """Queue outbox_drain_task unless one is queued and not yet started; False when the
    broker took nothing (the sweep delivers instead, and the next kick tries again)."""
    from notifications.tasks import outbox_drain_task

    if not cache.add(DRAIN_FLAG, True, DRAIN_FLAG_SECONDS):
        return True
    if task_publish(outbox_drain_task, ()):
        return True
    cache.delete(DRAIN_FLAG)
    return False


def outbox_drain(*, limit: int = SWEEP_BATCH) -> list["DeliveryResult"]:
    """Deliver the pending rows now (and retries that are due), at most ``limit``; a full
    batch queues another drain. The flag is cleared before the rows are read, so a row
    committed after that read has its kick queue a drain of its own."""
    cache.delete(DRAIN_FLAG)
    results = outbox_sweep(limit=limit, pending_grace=timedelta(0))
    if len(results) >= limit:
        outbox_drain_queue()
    return results


def deliveries_queue(message_ids) -> int:
    """Queue one delivery task per message over one broker connection; never raises.
    Stops at the first failure. Returns how many were queued."""
    from notifications.tasks import outbox_deliver_task

    queued = 0
    try:
        with outbox_deliver_task.app.producer_or_acquire() as producer:
            for message_id in message_ids:
                if not task_publish(outbox_deliver_task, (message_id,), producer=producer):
                    break
                queued += 1
    except Exception:  # no producer to be had: the rows wait for the sweep
        logger.warning(
            "No broker producer; %d message(s) left to the sweep.",
            len(message_ids) - queued,
            exc_info=True,
        )
    return queued


def task_publish(task, args, **options) -> bool:
    """Publish one task with the broker's 2 s connect timeout; never raises. After a
    failure nothing is tried again in this process for _BREAKER_SECONDS, so a burst of
    orders (or of any request that queues work) while Redis is down costs each at most
    one failed connect. The caller keeps what is needed to try again: outbox rows are
    delivered by outbox_sweep_task."""
    if time.monotonic() < _breaker["open_until"]:
        logger.warning("Broker marked down: %s%s not queued.", task.name, reprlib.repr(args))
        return False
    try:
        task.apply_async(args, retry=False, **options)
    except Exception:  # broker down, DNS, anything: the caller's state carries the work
        _breaker["open_until"] = time.monotonic() + _BREAKER_SECONDS
        logger.warning(
            "Could not queue %s%s; the broker is marked down.",
            task.name,
            reprlib.repr(args),
            exc_info=True,
        )
        return False
    return True


def delivery_breaker_reset() -> None:
    _breaker["open_until"] = 0.0


# ---------------------------------------------------------------------- delivery


@dataclass(frozen=True)
class DeliveryResult:
    message_id: int
    outcome: str  # "sent", "not_claimed", "retry", "failed", "skipped"
    error: str = ""


def _backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _message_id_header(message: Message) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "trailwise.example"
    return f"<outbox-{message.pk}@{domain}>"


def _build_email(message: Message) -> EmailMultiAlternatives:
    rendered = render_message(message)
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_email],
        headers={
            # Same on every attempt, so a rare resend after a crash de-duplicates.
            "Message-ID": _message_id_header(message),
            "X-Trailwise-Message": message.kind,
            "Auto-Submitted": "auto-generated",
        },
        # A case's messages carry its signed reply address, so an answer lands on it.
        reply_to=[message.context["reply_to"]] if message.context.get("reply_to") else None,
    )
    email.attach_alternative(rendered.html, "text/html")
    return email


def _send(message: Message) -> None:
    try:
        _build_email(message).send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentDeliveryError(f"Recipient refused: {exc.recipients}") from exc
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600:
            raise PermanentDeliveryError(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        raise


def message_deliver(*, message_id: int, now: datetime | None = None) -> DeliveryResult:
    """Send one outbox row, at most once.

    Deliberately not one transaction: SMTP is not transactional and no database
    transaction may stay open over the network. It is three statements, each atomic on
    its own: claim (locks.message_claim, committed before sending), send, then mark the
    row sent / to retry / failed, conditional on still holding the claim token.
    """
    now = now or timezone.now()
    token = locks.message_claim(message_id=message_id, now=now)
    if token is None:
        return DeliveryResult(message_id, "not_claimed")
    message = Message.objects.select_related("recipient").get(pk=message_id)
    owned = Message.objects.filter(pk=message_id, status=MessageStatus.SENDING, claim_token=token)

    if not message.to_email or not message.recipient.is_active:
        owned.update(status=MessageStatus.SKIPPED, lease_until=None, last_error="No address.")
        return DeliveryResult(message_id, "skipped")
    if message.attempts > MAX_ATTEMPTS:
        owned.update(status=MessageStatus.FAILED, lease_until=None)
        return DeliveryResult(message_id, "failed", message.last_error)

    try:
        _send(message)
    except PermanentDeliveryError as exc:
        owned.update(status=MessageStatus.FAILED, lease_until=None, last_error=str(exc)[:2000])
        logger.error("Message %s failed permanently: %s", message_id, exc)
        return DeliveryResult(message_id, "failed", str(exc))
    except Exception as exc:  # network, timeouts, template bugs: record and retry later
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= MAX_ATTEMPTS:
            owned.update(status=MessageStatus.FAILED, lease_until=None, last_error=error)
            logger.error("Message %s failed after %d attempts: %s", message_id, MAX_ATTEMPTS, error)
            return DeliveryResult(message_id, "failed", error)
        owned.update(
            status=MessageStatus.RETRY,
            lease_until=None,
            last_error=error,
            next_attempt_at=timezone.now() + _backoff(message.attempts),
        )
        logger.warning("Message %s attempt %d failed: %s", message_id, message.attempts, error)
        return DeliveryResult(message_id, "retry", error)

    marked = owned.update(
        status=MessageStatus.SENT, sent_at=timezone.now(), lease_until=None, last_error=""
    )
    if not marked:
        logger.error("Message %s was sent but its claim had been taken over.", message_id)
    return DeliveryResult(message_id, "sent")


def outbox_sweep(
    *,
    now: datetime | None = None,
    limit: int = SWEEP_BATCH,
    pending_grace: timedelta = SWEEP_PENDING_GRACE,
) -> list[DeliveryResult]:
    """The safety net: deliver rows whose kick was lost (broker down at commit), retries
    that are due, and rows whose worker died mid-send. At most ``limit`` per call;
    returns one result per row tried (the task re-queues itself on a full batch).
    ``pending_grace``: how old a pending row must be to be taken (outbox_drain: any)."""
    now = now or timezone.now()
    ids = list(
        Message.objects.due(now=now, pending_grace=pending_grace)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return [message_deliver(message_id=message_id) for message_id in ids]


# ----------------------------------------------------------------------- digest


@transaction.atomic(durable=True)
def digest_compose(*, recipient_id: int) -> Message | None:
    """Gather one user's held messages into one digest message (sent after commit).
    Running it twice sends nothing twice: the held rows move into the digest in the
    same transaction, and a re-run finds none."""
    held = locks.held_messages_for_update(recipient_id=recipient_id, limit=DIGEST_MAX_ITEMS)
    if not held:
        return None
    recipient = held[0].recipient
    now = timezone.now()
    count = len(held)
    digest, _ = Message.objects.get_or_create(
        key=f"digest:{recipient_id}:{held[-1].pk}",
        defaults={
            "kind": MessageKind.DIGEST,
            "recipient": recipient,
            "to_email": recipient.email or "",
            "subject": f"Your Trailwise Wholesale digest: {count} update{pluralize(count)}",
            "context": {"count": count, "date": timezone.localdate(now).isoformat()},
            "status": MessageStatus.PENDING,
            "next_attempt_at": now,
            "created_at": now,
        },
    )
    Message.objects.filter(pk__in=[m.pk for m in held], status=MessageStatus.HELD).update(
        status=MessageStatus.DIGESTED, digest=digest
    )
    transaction.on_commit(functools.partial(delivery_kick, (digest.pk,)), robust=True)
    return digest


def digest_send_all() -> list[Message]:
    """One digest per user with held messages (the daily job)."""
    recipient_ids = (
        Message.objects.held().order_by("recipient_id").values_list("recipient_id", flat=True)
    )
    digests = []
    for recipient_id in sorted(set(recipient_ids)):
        digest = digest_compose(recipient_id=recipient_id)
        if digest is not None:
            digests.append(digest)
    return digests


# ----------------------------------------------------------------------- resend


@transaction.atomic(durable=True)
def message_resend(*, message: Message, by_user) -> Message:
    """Customer service: send a message again (e.g. after the retailer fixed their
    address). A new outbox row with its own key, pointing at the original, sent to the
    recipient's current address whatever their preferences. Two clicks in the same
    minute make one resend."""
    if message.kind == MessageKind.DIGEST:
        raise NotResendable("A digest cannot be resent; resend the messages in it.")
    recipient = message.recipient
    if not recipient.is_active or not recipient.email:
        raise NotResendable(f"{recipient} has no active email address.")
    now = timezone.now()
    resend, created = Message.objects.get_or_create(
        key=f"resend:{message.pk}:{now:%Y%m%d%H%M}",
        defaults={
            "kind": message.kind,
            "recipient": recipient,
            "to_email": recipient.email,
            "subject": message.subject,
            "context": message.context,
            "status": MessageStatus.PENDING,
            "next_attempt_at": now,
            "created_at": now,
            "resent_from": message,
            "resent_by": by_user,
            "read_at": now,
        },
    )
    if created:
        transaction.on_commit(functools.partial(delivery_kick, (resend.pk,)), robust=True)
    return resend


# ------------------------------------------------------------------- feed, prefs


def message_mark_read(*, user, message_id: int) -> bool:
    """Mark one of the user's messages read. False if it is not theirs (or gone)."""
    mine = Message.objects.for_recipient(user).filter(pk=message_id)
    if not mine.exists():
        return False
    mine.filter(read_at__isnull=True).update(read_at=timezone.now())
    return True


def messages_mark_all_read(*, user) -> int:
    return Message.objects.for_recipient(user).unread().update(read_at=timezone.now())


@dataclass(frozen=True)
class PreferenceChoice:
    kind: str
    enabled: bool
    mode: str


@transaction.atomic(durable=True)
def preferences_update(
    *, user, choices: Iterable[PreferenceChoice]
) -> list[NotificationPreference]:
    """Save the user's choices. Kinds that must reach the user at once (decision
    requests) are stored as on and immediate whatever was asked."""
    allowed = {kind.value for kind in configurable_kinds()}
    saved = []
    for choice in choices:
        if choice.kind not in allowed:
            raise UnknownMessageKind(f"Unknown message kind {choice.kind!r}.")
        if choice.mode not in DeliveryMode.values:
            raise ValueError(f"Unknown delivery mode {choice.mode!r}.")
        enabled, mode = choice.enabled, choice.mode
        if spec_for(choice.kind).always_immediate:
            enabled, mode = True, DeliveryMode.IMMEDIATE
        pref, _ = NotificationPreference.objects.update_or_create(
            user=user, kind=choice.kind, defaults={"enabled": enabled, "mode": mode}
        )
        saved.append(pref)
    return saved

import datetime as dt
import email
import smtplib
from email import policy

import pytest
import time_machine
from django.utils import timezone

from notifications import locks
from notifications.kinds import MessageKind
from notifications.models import Message, MessageStatus
from notifications.samples import SAMPLE_CONTEXTS
from notifications.services import MAX_ATTEMPTS, message_deliver, message_enqueue, outbox_sweep
from notifications.tasks import outbox_deliver_task, outbox_sweep_task
from tests.factories import MessageFactory, UserFactory
from tests.notifications.conftest import FailingBackend

pytestmark = pytest.mark.django_db

FAILING = "tests.notifications.conftest.FailingBackend"


def _shipment_for(user, key="shipment:1", **overrides):
    context = {**SAMPLE_CONTEXTS[MessageKind.SHIPMENT], **overrides}
    (message,) = message_enqueue(
        kind=MessageKind.SHIPMENT, key=key, recipients=[user], context=context
    )
    return message


def test_delivery_sends_html_and_text_once_and_records_it(outbox):
    # given
    user = UserFactory(full_name="Dana Reyes")
    message = _shipment_for(user)
    # when
    first = message_deliver(message_id=message.pk)
    second = message_deliver(message_id=message.pk)
    # then
    assert (first.outcome, second.outcome) == ("sent", "not_claimed")
    assert len(outbox) == 1
    sent = outbox[0]
    assert sent.to == [user.email]
    assert sent.subject == ("Comfort Shoes of Burlington: Order SO-10042 (PO PO-7781) has shipped")
    assert "Hello Dana," in sent.body
    assert "1Z999AA10123456784" in sent.body
    html, mimetype = sent.alternatives[0]
    assert mimetype == "text/html"
    assert "#7a3b12" in html
    assert "https://www.ups.com/track?tracknum=1Z999AA10123456784" in html
    assert sent.extra_headers["Message-ID"] == f"<outbox-{message.pk}@trailwise.example>"
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 1
    assert message.sent_at is not None
    assert message.lease_until is None


def test_a_failed_send_is_retried_with_backoff_by_the_sweep(settings, outbox):
    # given: the mail server is down
    settings.EMAIL_BACKEND = FAILING
    message = _shipment_for(UserFactory())
    start = timezone.now()

    # when
    result = message_deliver(message_id=message.pk)

    # then: recorded, and due again in a minute
    assert result.outcome == "retry"
    message.refresh_from_db()
    assert message.status == MessageStatus.RETRY
    assert message.attempts == 1
    assert "Connection refused" in message.last_error
    assert start + dt.timedelta(seconds=55) < message.next_attempt_at
    assert message.next_attempt_at < start + dt.timedelta(seconds=65)

    # a sweep before it is due leaves it alone
    assert outbox_sweep() == []

    # the server is back and the retry is due: the sweep sends it, once
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(start + dt.timedelta(minutes=2)):
        results = outbox_sweep()
        assert outbox_sweep() == []
    assert [r.outcome for r in results] == ["sent"]
    assert len(outbox) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (MessageStatus.SENT, 2, "")


def test_backoff_doubles_between_attempts(settings):
    settings.EMAIL_BACKEND = FAILING
    message = _shipment_for(UserFactory())
    waits = []
    now = timezone.now()
    for _ in range(4):
        with time_machine.travel(now, tick=False):
            message_deliver(message_id=message.pk)
        message.refresh_from_db()
        waits.append(round((message.next_attempt_at - now).total_seconds() / 60))
        now = message.next_attempt_at
    assert waits == [1, 2, 4, 8]


def test_gives_up_after_max_attempts(settings):
    settings.EMAIL_BACKEND = FAILING
    message = _shipment_for(UserFactory())
    Message.objects.filter(pk=message.pk).update(attempts=MAX_ATTEMPTS - 1)

    assert message_deliver(message_id=message.pk).outcome == "failed"
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message_deliver(message_id=message.pk).outcome == "not_claimed"


def test_a_refused_recipient_fails_at_once(settings, monkeypatch):
    settings.EMAIL_BACKEND = FAILING
    monkeypatch.setattr(
        FailingBackend,
        "error",
        smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"No such user")}),
    )
    message = _shipment_for(UserFactory())

    assert message_deliver(message_id=message.pk).outcome == "failed"
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == 1


def test_a_row_stuck_in_sending_is_redelivered_only_after_its_lease(outbox):
    # given: a worker claimed the row and died before sending
    message = MessageFactory()
    now = timezone.now()
    assert locks.message_claim(message_id=message.pk, now=now) is not None

    # when / then: within the lease nobody else may take it
    assert outbox_sweep(now=now + locks.LEASE - dt.timedelta(seconds=1)) == []
    assert message_deliver(message_id=message.pk).outcome == "not_claimed"

    # after the lease the sweep takes it over
    with time_machine.travel(now + locks.LEASE + dt.timedelta(seconds=1)):
        results = outbox_sweep()
    assert [r.outcome for r in results] == ["sent"]
    assert len(outbox) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 2)


def test_held_and_skipped_rows_are_never_claimed(outbox):
    held = MessageFactory(status=MessageStatus.HELD)
    skipped = MessageFactory(status=MessageStatus.SKIPPED)
    for message in (held, skipped):
        assert message_deliver(message_id=message.pk).outcome == "not_claimed"
    assert outbox == []


def test_a_cr_lf_in_the_po_number_cannot_inject_a_header(outbox):
    # given: a PO number that tries to add a Bcc header
    user = UserFactory()
    message = _shipment_for(user, po_number="PO-1\r\nBcc: thief@evil.example\r\nX-Evil: 1")

    # when
    assert message_deliver(message_id=message.pk).outcome == "sent"

    # then: the subject is one line, and the wire message has no such headers
    (sent,) = outbox
    assert "\n" not in sent.subject
    assert "\r" not in sent.subject
    assert sent.recipients() == [user.email]
    parsed = email.message_from_bytes(sent.message().as_bytes(), policy=policy.default)
    assert parsed["Bcc"] is None
    assert parsed["X-Evil"] is None
    assert parsed["Subject"] == (
        "Comfort Shoes of Burlington: "
        "Order SO-10042 (PO PO-1 Bcc: thief@evil.example X-Evil: 1) has shipped"
    )


def test_task_bodies_are_thin_and_tolerate_a_missing_row(outbox, monkeypatch):
    message = MessageFactory()
    assert outbox_deliver_task(999_999_999) == "not_claimed"
    assert outbox_deliver_task(message.pk) == "sent"

    # the sweep re-queues itself while a full batch came back
    from notifications import services

    requeued = []
    monkeypatch.setattr(services, "SWEEP_BATCH", 2)
    monkeypatch.setattr(outbox_sweep_task, "apply_async", lambda **kw: requeued.append(kw))
    MessageFactory.create_batch(3, next_attempt_at=timezone.now() - dt.timedelta(hours=1))
    assert outbox_sweep_task() == 2
    assert requeued == [{"countdown": 1}]
    assert outbox_sweep_task() == 1
    assert len(requeued) == 1
    assert len(outbox) == 4


def test_a_message_with_a_reply_address_is_sent_with_reply_to(outbox):
    # given a case update carrying the case's signed reply address
    user = UserFactory()
    context = SAMPLE_CONTEXTS[MessageKind.CASE_UPDATE]
    (message,) = message_enqueue(
        kind=MessageKind.CASE_UPDATE, key="case-entry:1", recipients=[user], context=context
    )
    # when
    message_deliver(message_id=message.pk)
    # then answering the email goes to the case, and other kinds keep the default
    assert outbox[0].reply_to == [context["reply_to"]]
    plain = _shipment_for(user)
    message_deliver(message_id=plain.pk)
    assert outbox[1].reply_to == []

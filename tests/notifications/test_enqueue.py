import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from notifications.exceptions import InvalidMessageContext, InvalidMessageKey, UnknownMessageKind
from notifications.kinds import MessageKind
from notifications.models import DeliveryMode, Message, MessageStatus
from notifications.samples import SAMPLE_CONTEXTS
from notifications.services import (
    OutgoingMessage,
    message_enqueue,
    messages_enqueue,
    outbox_sweep,
)
from tests.factories import NotificationPreferenceFactory, UserFactory

pytestmark = pytest.mark.django_db


def _enqueue(kind=MessageKind.SHIPMENT, key="shipment:1", recipients=(), **kwargs):
    return message_enqueue(
        kind=kind, key=key, recipients=recipients, context=SAMPLE_CONTEXTS[kind], **kwargs
    )


def test_enqueue_writes_one_row_per_recipient_and_kicks_after_commit(
    kicks, django_capture_on_commit_callbacks
):
    # given
    alice, bob = UserFactory(), UserFactory()
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        messages = _enqueue(recipients=[alice, bob, alice])
        assert kicks == []  # nothing queued before commit
    for callback in callbacks:
        callback()
    # then
    assert [m.key for m in messages] == [f"shipment:1:{alice.pk}", f"shipment:1:{bob.pk}"]
    assert {m.status for m in messages} == {MessageStatus.PENDING}
    assert messages[0].to_email == alice.email
    assert messages[0].subject == (
        "Comfort Shoes of Burlington: Order SO-10042 (PO PO-7781) has shipped"
    )
    assert sorted(kicks) == sorted(m.pk for m in messages)


def test_the_same_event_twice_writes_and_kicks_nothing_new(
    kicks, django_capture_on_commit_callbacks
):
    alice = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = _enqueue(recipients=[alice])
    with django_capture_on_commit_callbacks(execute=True) as second_callbacks:
        second = _enqueue(recipients=[alice])

    assert Message.objects.count() == 1
    assert [m.pk for m in second] == [m.pk for m in first]
    assert second_callbacks == []
    assert kicks == [first[0].pk]


def test_a_date_object_in_the_context_is_refused_naming_where_it_is():
    alice = UserFactory()
    context = dict(SAMPLE_CONTEXTS[MessageKind.ORDER_CONFIRMATION])
    context["lines"] = [dict(context["lines"][0], promised_date=dt.date(2026, 4, 2))]

    with pytest.raises(InvalidMessageContext, match=r"context\['lines'\]\[0\]\['promised_date'\]"):
        message_enqueue(
            kind=MessageKind.ORDER_CONFIRMATION, key="o:1", recipients=[alice], context=context
        )
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("value", "kind_of_error"),
    [(Decimal("1.00"), "Decimal"), (float("nan"), "nan"), ({1: "x"}, "non-string key")],
)
def test_other_non_json_values_are_refused(value, kind_of_error):
    context = dict(SAMPLE_CONTEXTS[MessageKind.INVOICE], total=value)
    with pytest.raises(InvalidMessageContext, match=kind_of_error):
        message_enqueue(
            kind=MessageKind.INVOICE, key="i:1", recipients=[UserFactory()], context=context
        )


def test_a_missing_required_key_is_named():
    context = dict(SAMPLE_CONTEXTS[MessageKind.DECISION_REQUEST])
    del context["keep_all_url"]
    with pytest.raises(InvalidMessageContext, match="'keep_all_url'"):
        message_enqueue(
            kind=MessageKind.DECISION_REQUEST,
            key="d:1",
            recipients=[UserFactory()],
            context=context,
        )


def test_unknown_kind_and_blank_key_are_refused():
    user = UserFactory()
    with pytest.raises(UnknownMessageKind):
        message_enqueue(kind="postcard", key="x", recipients=[user], context={})
    with pytest.raises(UnknownMessageKind):
        message_enqueue(kind=MessageKind.DIGEST, key="x", recipients=[user], context={})
    with pytest.raises(InvalidMessageKey):
        _enqueue(key=" ", recipients=[user])
    with pytest.raises(InvalidMessageKey):
        _enqueue(key="k" * 300, recipients=[user])


def test_preferences_decide_immediate_digest_or_no_email(kicks, django_capture_on_commit_callbacks):
    # given
    immediate, digest, off, inactive = UserFactory(), UserFactory(), UserFactory(), UserFactory()
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    NotificationPreferenceFactory(user=digest, kind=MessageKind.SHIPMENT, mode=DeliveryMode.DIGEST)
    NotificationPreferenceFactory(user=off, kind=MessageKind.SHIPMENT, enabled=False)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        messages = _enqueue(recipients=[immediate, digest, off, inactive])
    # then
    status = {m.recipient_id: m.status for m in messages}
    assert status == {
        immediate.pk: MessageStatus.PENDING,
        digest.pk: MessageStatus.HELD,
        off.pk: MessageStatus.SKIPPED,
        inactive.pk: MessageStatus.SKIPPED,
    }
    assert kicks == [m.pk for m in messages if m.recipient_id == immediate.pk]


def test_decision_requests_are_immediate_whatever_the_preference(
    kicks, django_capture_on_commit_callbacks
):
    user = UserFactory()
    NotificationPreferenceFactory(
        user=user, kind=MessageKind.DECISION_REQUEST, enabled=False, mode=DeliveryMode.DIGEST
    )
    with django_capture_on_commit_callbacks(execute=True):
        (message,) = _enqueue(
            kind=MessageKind.DECISION_REQUEST, key="decision:9", recipients=[user]
        )
    assert message.status == MessageStatus.PENDING
    assert kicks == [message.pk]


def test_subject_hint_replaces_the_template_and_is_one_line():
    (message,) = _enqueue(recipients=[UserFactory()], subject_hint="Your boxes\r\nare coming")
    assert message.subject == "Your boxes are coming"


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_writes_and_sends_nothing(kicks, outbox):
    # given
    alice = UserFactory()

    # when: the event's transaction fails after the message was enqueued
    def place_order_that_fails():
        with transaction.atomic():
            _enqueue(recipients=[alice])
            raise RuntimeError("the order failed")

    with pytest.raises(RuntimeError):
        place_order_that_fails()

    # then: no row, no kick, and the sweep has nothing to deliver either
    assert not Message.objects.exists()
    assert kicks == []
    assert outbox_sweep(now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)) == []
    assert outbox == []


def _shipments(users, count):
    """`count` events, each for two of the users."""
    return [
        OutgoingMessage(
            key=f"shipment:{i}",
            recipients=[users[i % len(users)], users[(i + 1) % len(users)]],
            context=SAMPLE_CONTEXTS[MessageKind.SHIPMENT],
        )
        for i in range(count)
    ]


def test_many_events_are_written_together_and_kicked_once(
    kicks, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    # given four events of two recipients each
    users = UserFactory.create_batch(3)
    events = _shipments(users, 4)
    # when they are enqueued together
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        # preferences, one insert, one re-read: whatever the number of events
        with django_assert_max_num_queries(3):
            messages = messages_enqueue(kind=MessageKind.SHIPMENT, messages=events)
        assert kicks == []  # nothing queued before commit
    # then one row per event and recipient, in the order given, and one kick for all
    assert [m.key for m in messages] == [
        f"shipment:{i}:{pk}"
        for i in range(4)
        for pk in sorted({users[i % 3].pk, users[(i + 1) % 3].pk})
    ]
    assert {m.subject for m in messages} == {
        "Comfort Shoes of Burlington: Order SO-10042 (PO PO-7781) has shipped"
    }
    assert len(callbacks) == 1
    assert sorted(kicks) == sorted(m.pk for m in messages)


def test_many_events_again_write_and_kick_nothing_new(kicks, django_capture_on_commit_callbacks):
    users = UserFactory.create_batch(2)
    with django_capture_on_commit_callbacks(execute=True):
        first = messages_enqueue(kind=MessageKind.SHIPMENT, messages=_shipments(users, 3))
    kicked = list(kicks)
    # a re-run of the same events, plus one new event
    with django_capture_on_commit_callbacks(execute=True):
        second = messages_enqueue(kind=MessageKind.SHIPMENT, messages=_shipments(users, 4))

    assert [m.pk for m in second[: len(first)]] == [m.pk for m in first]
    assert Message.objects.count() == len(first) + 2
    assert kicks == kicked + [m.pk for m in second[len(first) :]]


def test_one_bad_event_among_many_writes_nothing():
    users = UserFactory.create_batch(2)
    events = _shipments(users, 3)
    bad = dict(SAMPLE_CONTEXTS[MessageKind.SHIPMENT], shipped_on=dt.date(2026, 3, 16))
    events.append(OutgoingMessage(key="shipment:bad", recipients=users, context=bad))

    with pytest.raises(InvalidMessageContext, match=r"context\['shipped_on'\]"):
        messages_enqueue(kind=MessageKind.SHIPMENT, messages=events)
    assert not Message.objects.exists()


def test_a_tuple_in_the_context_is_stored_as_a_list():
    context = dict(SAMPLE_CONTEXTS[MessageKind.SHIPMENT])
    context["lines"] = tuple(context["lines"])
    (message,) = message_enqueue(
        kind=MessageKind.SHIPMENT, key="s:1", recipients=[UserFactory()], context=context
    )
    message.refresh_from_db()
    assert message.context["lines"] == list(SAMPLE_CONTEXTS[MessageKind.SHIPMENT]["lines"])

import pytest

from notifications.kinds import MessageKind
from notifications.models import DeliveryMode, Message, MessageStatus
from notifications.samples import SAMPLE_CONTEXTS
from notifications.services import message_deliver, message_enqueue
from notifications.tasks import digest_send_task
from tests.factories import NotificationPreferenceFactory, UserFactory

pytestmark = pytest.mark.django_db


def _enqueue(kind, key, recipients, **overrides):
    return message_enqueue(
        kind=kind,
        key=key,
        recipients=recipients,
        context={**SAMPLE_CONTEXTS[kind], **overrides},
    )


def test_digest_users_get_one_email_with_everything_held(
    kicks, outbox, django_capture_on_commit_callbacks
):
    # given: a buyer on the daily digest for shipments and invoices, and one who is not
    digest_user, other = UserFactory(), UserFactory()
    for kind in (MessageKind.SHIPMENT, MessageKind.INVOICE):
        NotificationPreferenceFactory(user=digest_user, kind=kind, mode=DeliveryMode.DIGEST)
    _enqueue(MessageKind.SHIPMENT, "shipment:1", [digest_user, other])
    _enqueue(MessageKind.SHIPMENT, "shipment:2", [digest_user], order_number="SO-10057")
    _enqueue(MessageKind.INVOICE, "invoice:1", [digest_user])
    assert Message.objects.filter(recipient=digest_user, status=MessageStatus.HELD).count() == 3

    # when: the daily job runs (twice, as after a crash and re-run)
    with django_capture_on_commit_callbacks(execute=True):
        assert digest_send_task() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert digest_send_task() == 0

    # then: one digest row, kicked after commit; the held rows point at it
    digest = Message.objects.get(kind=MessageKind.DIGEST)
    assert kicks == [digest.pk]
    assert digest.recipient == digest_user
    assert digest.subject == "Your Trailwise Wholesale digest: 3 updates"
    items = Message.objects.filter(digest=digest)
    assert items.count() == 3
    assert set(items.values_list("status", flat=True)) == {MessageStatus.DIGESTED}

    # and delivering it sends one email listing all three
    assert message_deliver(message_id=digest.pk).outcome == "sent"
    (sent,) = outbox
    assert sent.to == [digest_user.email]
    html = sent.alternatives[0][0]
    for text in ("SO-10042", "SO-10057", "INV-20931"):
        assert text in sent.body
        assert text in html
    assert "Order SO-10057 (PO PO-7781) has shipped" in sent.body


def test_eta_change_is_one_message_per_account_listing_every_line(outbox):
    # given: an ETA change touching three lines on two orders of one account
    buyer, viewer = UserFactory(), UserFactory()
    context = SAMPLE_CONTEXTS[MessageKind.ETA_MOVED]
    assert len(context["lines"]) == 3

    # when: the backorders engine enqueues one message for the account
    messages = _enqueue(MessageKind.ETA_MOVED, "eta:55:account:9", [buyer, viewer])
    for message in messages:
        message_deliver(message_id=message.pk)

    # then: one email per person, each listing every line with old and new dates
    assert sorted(m.to[0] for m in outbox) == sorted([buyer.email, viewer.email])
    for sent in outbox:
        assert sent.subject == (
            "Comfort Shoes of Burlington: New delivery date for 3 lines: RUN-00012 now Apr 15, 2026"
        )
        for line in ("WLK-BLK-090M", "WLK-BLK-095M", "WLK-BRN-080M"):
            assert line in sent.body
        assert sent.body.count("was Apr 9, 2026, now Apr 23, 2026") == 3
        html = sent.alternatives[0][0]
        assert html.count("Apr 23, 2026") == 3


def test_held_messages_of_a_disabled_kind_stay_out_of_email_but_in_the_feed():
    user = UserFactory()
    NotificationPreferenceFactory(user=user, kind=MessageKind.INVOICE, enabled=False)
    (message,) = _enqueue(MessageKind.INVOICE, "invoice:5", [user])
    assert message.status == MessageStatus.SKIPPED
    assert digest_send_task() == 0
    from notifications.selectors import feed_for_user

    assert [m.pk for m in feed_for_user(user=user, limit=10)] == [message.pk]

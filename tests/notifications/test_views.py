import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.kinds import MessageKind
from notifications.models import DeliveryMode, Message, NotificationPreference
from notifications.samples import SAMPLE_CONTEXTS
from tests.factories import MessageFactory, NotificationPreferenceFactory

pytestmark = pytest.mark.django_db


def test_feed_lists_only_my_messages_with_the_unread_count(
    buyer_client, buyer, other_buyer, django_assert_max_num_queries
):
    # given
    mine = MessageFactory.create_batch(
        3, recipient=buyer, kind=MessageKind.INVOICE, context=SAMPLE_CONTEXTS["invoice"]
    )
    Message.objects.filter(pk=mine[0].pk).update(read_at=timezone.now())
    theirs = MessageFactory(recipient=other_buyer, subject="Their secret invoice")
    MessageFactory(recipient=buyer, kind=MessageKind.DIGEST, subject="Digest envelope")

    # when
    with django_assert_max_num_queries(10):
        response = buyer_client.get(reverse("portal:notifications"))

    # then
    assert response.status_code == 200
    body = response.content.decode()
    for message in mine:
        assert message.subject in body
    assert theirs.subject not in body
    assert "Digest envelope" not in body
    assert "2 unread." in body
    assert 'href="https://portal.trailwise.example/invoices/INV-20931/"' in body


def test_unread_badge_and_mark_read(buyer_client, buyer):
    message = MessageFactory(recipient=buyer)
    MessageFactory(recipient=buyer)

    badge = buyer_client.get(reverse("portal:notifications_unread"))
    assert '<span class="badge" aria-label="2 unread">2</span>' in badge.content.decode()

    response = buyer_client.post(reverse("portal:notification_read", args=[message.pk]))
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.read_at is not None
    badge = buyer_client.get(reverse("portal:notifications_unread"))
    assert 'aria-label="1 unread"' in badge.content.decode()

    buyer_client.post(reverse("portal:notifications_read_all"))
    badge = buyer_client.get(reverse("portal:notifications_unread"))
    assert "badge" not in badge.content.decode().split(">", 1)[1]


def test_i_cannot_mark_another_users_message_read(buyer_client, other_buyer):
    theirs = MessageFactory(recipient=other_buyer)
    response = buyer_client.post(reverse("portal:notification_read", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_feed_needs_login(client):
    response = client.get(reverse("portal:notifications"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_nav_links_to_the_feed(buyer_client):
    response = buyer_client.get(reverse("portal:dashboard"))
    assert reverse("portal:notifications") in response.content.decode()


def test_preferences_page_saves_choices_and_locks_decision_requests(
    buyer_client, buyer, django_assert_max_num_queries
):
    NotificationPreferenceFactory(user=buyer, kind=MessageKind.SHIPMENT, enabled=False)
    with django_assert_max_num_queries(8):
        page = buyer_client.get(reverse("portal:notification_preferences"))
    assert page.status_code == 200
    assert "Always sent straight away" in page.content.decode()

    data = {f"enabled-{kind}": "on" for kind in ("order_confirmation", "invoice", "shipment")}
    data |= {"mode-invoice": "digest", "mode-shipment": "digest", "mode-decision_request": "digest"}
    response = buyer_client.post(reverse("portal:notification_preferences"), data)

    assert response.status_code == 302
    prefs = {p.kind: p for p in NotificationPreference.objects.filter(user=buyer)}
    assert (prefs["invoice"].enabled, prefs["invoice"].mode) == (True, DeliveryMode.DIGEST)
    assert prefs["shipment"].enabled is True
    assert prefs["eta_moved"].enabled is False  # unticked
    assert (prefs["decision_request"].enabled, prefs["decision_request"].mode) == (
        True,
        DeliveryMode.IMMEDIATE,
    )
    assert "digest" not in prefs

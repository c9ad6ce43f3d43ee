"""The admin shows endpoints (never their secret) and deliveries with their attempts;
"retry now" needs its permission."""

from django.contrib.auth.models import Permission
from django.urls import reverse

from orders.webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus
from orders.webhooks.services import webhook_event_enqueue
from tests.factories import StaffFactory
from tests.webhooks.conftest import endpoint_for


def _failed_delivery(buyer, account):
    endpoint = endpoint_for(user=buyer, url="http://127.0.0.1:9/hooks", account=account)
    (delivery_id,) = webhook_event_enqueue(event="order.placed", key="k", account=account, data={})
    Delivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.FAILED, attempts=10, last_status_code=500
    )
    DeliveryAttempt.objects.create(
        delivery_id=delivery_id,
        number=10,
        started_at="2026-03-01T10:00:00Z",
        status_code=500,
        duration_ms=123,
        error="HTTP 500",
    )
    return endpoint, Delivery.objects.get(pk=delivery_id)


def test_deliveries_show_their_attempts_and_retry_needs_the_permission(
    allow_private, client, buyer, account, kicks, django_capture_on_commit_callbacks
):
    endpoint, delivery = _failed_delivery(buyer, account)
    staff = StaffFactory()
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_delivery", "view_endpoint"])
    )
    client.force_login(staff)
    changelist = reverse("admin:webhooks_delivery_changelist")
    action = {"action": "retry_now", "_selected_action": [delivery.pk]}

    page = client.get(reverse("admin:webhooks_delivery_change", args=[delivery.pk]))
    assert page.status_code == 200
    assert b"HTTP 500" in page.content
    assert b"123" in page.content  # the attempt's response time, inline
    endpoint_page = client.get(reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]))
    assert endpoint_page.status_code == 200
    assert endpoint.secret.encode() not in endpoint_page.content

    # without the permission the action is not offered and does nothing
    assert b"retry_now" not in client.get(changelist).content
    client.post(changelist, action)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED

    staff.user_permissions.add(Permission.objects.get(codename="retry_delivery"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(changelist, action)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert kicks[-1] == delivery.pk


def test_a_user_without_view_permission_sees_no_deliveries(
    client, allow_private, buyer, account, kicks
):
    _, delivery = _failed_delivery(buyer, account)
    client.force_login(StaffFactory())
    response = client.get(reverse("admin:webhooks_delivery_change", args=[delivery.pk]))
    assert response.status_code in (302, 403)

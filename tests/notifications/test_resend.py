import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from notifications.exceptions import NotResendable
from notifications.kinds import MessageKind
from notifications.models import Message, MessageStatus
from notifications.services import message_resend
from tests.factories import MessageFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_resend_writes_a_new_row_pointing_at_the_original(
    kicks, django_capture_on_commit_callbacks
):
    # given: a message that was sent to an address the retailer has since fixed
    original = MessageFactory(status=MessageStatus.FAILED, to_email="old@example.com")
    staff = StaffFactory()

    # when (double-clicked)
    with django_capture_on_commit_callbacks(execute=True):
        resend = message_resend(message=original, by_user=staff)
    with django_capture_on_commit_callbacks(execute=True):
        again = message_resend(message=original, by_user=staff)

    # then
    assert again.pk == resend.pk
    assert resend.key.startswith(f"resend:{original.pk}:")
    assert resend.key != original.key
    assert (resend.resent_from, resend.resent_by) == (original, staff)
    assert resend.to_email == original.recipient.email
    assert (resend.status, resend.subject, resend.context) == (
        MessageStatus.PENDING,
        original.subject,
        original.context,
    )
    assert kicks == [resend.pk]


def test_a_digest_cannot_be_resent():
    digest = MessageFactory(kind=MessageKind.DIGEST, context={})
    with pytest.raises(NotResendable):
        message_resend(message=digest, by_user=StaffFactory())


def test_admin_is_read_only_and_resend_needs_the_permission(client, kicks):
    message = MessageFactory(status=MessageStatus.SENT, sent_at="2026-03-01T10:00:00Z")
    staff = StaffFactory()
    staff.user_permissions.add(
        Permission.objects.get(codename="view_message"),
    )
    client.force_login(staff)
    changelist = reverse("admin:notifications_message_changelist")
    action = {"action": "resend", "_selected_action": [message.pk]}

    assert client.get(changelist).status_code == 200
    client.post(changelist, action)
    assert not Message.objects.filter(resent_from=message).exists()

    staff.user_permissions.add(Permission.objects.get(codename="resend_message"))
    client.post(changelist, action)
    assert Message.objects.filter(resent_from=message).count() == 1
    change = client.get(reverse("admin:notifications_message_change", args=[message.pk]))
    assert b'name="subject"' not in change.content  # read only

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from notifications.kinds import MessageKind
from notifications.querysets import MessageQuerySet, NotificationPreferenceQuerySet


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    RETRY = "retry", "Waiting to retry"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    HELD = "held", "Held for the daily digest"
    DIGESTED = "digested", "Sent in a digest"
    SKIPPED = "skipped", "Not emailed (preference or no address)"


class DeliveryMode(models.TextChoices):
    IMMEDIATE = "immediate", "Immediately"
    DIGEST = "digest", "In a daily digest"


class Message(models.Model):
    """One outbox row: one message to one user, written in the same transaction as the
    event that caused it. ``key`` makes the event's message unique per recipient, so a
    re-run of the event writes nothing new and a retry can never send twice."""

    key = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=32, choices=MessageKind.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages"
    )
    to_email = models.EmailField(blank=True)
    subject = models.CharField(max_length=200)
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker owns the row in 'sending' until then."
    )
    claim_token = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    digest = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="digest_items",
        help_text="The digest message that delivered this held message.",
    )
    resent_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="resends"
    )
    resent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("resend_message", "Can resend a message")]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="notif_msg_due_idx",
                condition=Q(status__in=["pending", "retry", "sending"]),
            ),
            models.Index(fields=["recipient", "-created_at"], name="notif_msg_feed_idx"),
            models.Index(
                fields=["recipient"],
                name="notif_msg_unread_idx",
                condition=Q(read_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="notif_msg_sent_has_sent_at",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} to {self.to_email or self.recipient_id} ({self.key})"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """A user's choice for one kind of message. No row means: on, immediately."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=32, choices=MessageKind.choices)
    enabled = models.BooleanField(default=True, help_text="Send this kind by email.")
    mode = models.CharField(
        max_length=16, choices=DeliveryMode.choices, default=DeliveryMode.IMMEDIATE
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = NotificationPreferenceQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notif_pref_one_per_kind"),
        ]

    def __str__(self):
        state = self.get_mode_display() if self.enabled else "off"
        return f"{self.user_id} {self.kind}: {state}"

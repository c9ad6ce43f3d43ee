"""Endpoints (subscriptions), their deliveries (the outbox) and each delivery's attempts."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from orders.webhooks.events import WebhookEvent


class Endpoint(models.Model):
    """A URL that receives the events it subscribed to: one account's, or every
    account's when ``account`` is empty (the brand's ERP, by permission)."""

    url = models.URLField(max_length=500)
    events = models.JSONField(help_text="The event types sent here.")
    account = models.ForeignKey(
        "orders.Account",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        help_text="Empty: every account's events.",
    )
    # Kept readable: every delivery is signed with it. Shown to the subscriber once.
    secret = models.CharField(max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="Unsubscribed: nothing more is sent."
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("receive_all_accounts", "Can subscribe a webhook to every account's events"),
        ]
        indexes = [
            models.Index(
                fields=["account"], name="webhook_endpoint_live_idx", condition=Q(deleted_at=None)
            ),
        ]

    def __str__(self):
        return self.url

    def receives(self, event: str) -> bool:
        return self.deleted_at is None and event in self.events


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    RETRY = "retry", "Waiting to retry"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled (endpoint removed)"


class Delivery(models.Model):
    """One event for one endpoint: an outbox row written in the event's transaction.
    ``key`` (event key and endpoint) makes a re-run of the event write nothing new."""

    key = models.CharField(max_length=255, unique=True)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(help_text="The same for every endpoint and attempt: dedup on it.")
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        permissions = [("retry_delivery", "Can retry a webhook delivery now")]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=Q(status__in=["pending", "retry", "sending"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(delivered_at__isnull=False),
                name="webhook_delivered_has_time",
            ),
        ]

    def __str__(self):
        return f"{self.event} to {self.endpoint_id} ({self.status})"


class DeliveryAttempt(models.Model):
    """One POST of a delivery: what came back, how long it took, when the next try is.
    ``number`` counts within a round: "retry now" on a failed delivery starts a new one."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["delivery", "started_at", "pk"]

    def __str__(self):
        return f"Attempt {self.number} of delivery {self.delivery_id}"

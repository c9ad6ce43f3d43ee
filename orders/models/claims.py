"""What the store can see of its cases: claims it filed against a shipment (lines and
photos), and each case's timeline of messages, notes, actions and documents."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from orders.models.accounts import Account
from orders.models.cases import Case
from orders.models.fulfilment import CreditMemo, ReturnAuthorization, Shipment, ShipmentLine
from orders.models.ordering import Order


class ClaimReason(models.TextChoices):
    DAMAGED = "damaged", "Damaged"
    DEFECTIVE = "defective", "Defective"
    WRONG_ITEM = "wrong_item", "Wrong item"
    WRONG_SIZE = "wrong_size", "Wrong size"
    SHORT_SHIPPED = "short_shipped", "Short-shipped"
    OVER_SHIPPED = "over_shipped", "Over-shipped"


class ClaimQuerySet(models.QuerySet):
    def for_accounts(self, accounts):
        return self.filter(account__in=accounts)


class Claim(models.Model):
    """A problem the store reported with a shipment, by line and quantity. Filing one
    opens its case, where the brand answers and resolves it."""

    number = models.CharField(max_length=20, unique=True)
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="claim")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="claims")
    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="claims")
    reason = models.CharField(max_length=20, choices=ClaimReason.choices)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["account", "-created_at"])]

    def __str__(self):
        return self.number


class ClaimLine(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="lines")
    shipment_line = models.ForeignKey(
        ShipmentLine, on_delete=models.PROTECT, related_name="claim_lines"
    )
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="claim_line_quantity_positive"
            ),
            models.UniqueConstraint(
                fields=["claim", "shipment_line"], name="claim_line_once_per_claim"
            ),
        ]

    def __str__(self):
        return f"{self.claim_id}: {self.shipment_line_id} x{self.quantity}"


class ClaimPhoto(models.Model):
    """A photo as stored: re-encoded from the upload, so none of the original's metadata
    or trailing bytes survive. Served only to the account's people and staff."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to="claims/%Y/%m/")
    content_type = models.CharField(max_length=30)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField(help_text="Bytes as stored.")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"Photo {self.pk} of {self.claim_id}"


class EntryKind(models.TextChoices):
    MESSAGE = "message", "Message"
    NOTE = "note", "Note"
    ACTION = "action", "Action"
    DOCUMENT = "document", "Document"


class EntrySide(models.TextChoices):
    STORE = "store", "Store"
    BRAND = "brand", "Trailwise"


class EntryChannel(models.TextChoices):
    PORTAL = "portal", "Portal"
    API = "api", "API"
    EMAIL = "email", "Email"
    ADMIN = "admin", "Admin"
    SYSTEM = "system", "System"


class CaseEntryQuerySet(models.QuerySet):
    def visible_to_store(self):
        return self.filter(internal=False)


class CaseEntry(models.Model):
    """One line of a case's timeline, in the order it happened: a message between the
    store and the brand, a note (internal ones are for the brand's people only), an
    action taken, or a document issued (linked to the memo, return or order itself)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    side = models.CharField(max_length=10, choices=EntrySide.choices)
    channel = models.CharField(max_length=10, choices=EntryChannel.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    internal = models.BooleanField(
        default=False, help_text="Seen by the brand's staff and the account's rep only."
    )
    credit_memo = models.ForeignKey(
        CreditMemo, null=True, blank=True, on_delete=models.PROTECT, related_name="case_entries"
    )
    return_authorization = models.ForeignKey(
        ReturnAuthorization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="case_entries",
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="case_entries"
    )
    # What the entry came from (an inbound email's Message-ID, say), so a retry adds
    # nothing twice.
    source_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = CaseEntryQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "case entries"
        indexes = [models.Index(fields=["case", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="note") | Q(side="brand"), name="case_entry_notes_are_brand"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on case {self.case_id}"


class StockAlertStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    SENT = "sent", "Told"
    CANCELLED = "cancelled", "Cancelled"


class StockAlert(models.Model):
    """A buyer asked to be told when a SKU is available again. It is told once, then
    ends; asking again while one waits changes nothing."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stock_alerts"
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="stock_alerts")
    sku = models.ForeignKey("inventory.SKU", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=10, choices=StockAlertStatus.choices, default=StockAlertStatus.WAITING
    )
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["sku"], name="stock_alert_waiting_idx", condition=Q(status="waiting")
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "account", "sku"],
                condition=Q(status="waiting"),
                name="stock_alert_one_waiting",
            ),
            models.CheckConstraint(
                condition=Q(status="waiting", ended_at__isnull=True)
                | (~Q(status="waiting") & Q(ended_at__isnull=False)),
                name="stock_alert_ended_has_ended_at",
            ),
        ]

    def __str__(self):
        return f"Alert {self.pk}: {self.sku_id} for {self.user_id}"

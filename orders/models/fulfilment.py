from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When

from orders.models.accounts import Account
from orders.models.ordering import Order, OrderLine


class DocumentSequence(models.Model):
    """Gapless counters for document numbers (invoices, credit memos). The row is locked
    for the length of the issuing transaction, so a rollback leaves no gap."""

    name = models.CharField(max_length=30, unique=True)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(last_value__gte=0), name="sequence_non_negative")
        ]

    def __str__(self):
        return f"{self.name}={self.last_value}"


class ShipmentQuerySet(models.QuerySet):
    def for_accounts(self, accounts):
        return self.filter(order__account__in=accounts)


class Shipment(models.Model):
    number = models.CharField(max_length=20, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    carrier = models.CharField(max_length=20)
    tracking = models.CharField(
        max_length=200, help_text="One or more tracking numbers, separated by spaces."
    )
    shipped_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    packing_list_pdf = models.FileField(upload_to="packing_lists/", blank=True)

    objects = ShipmentQuerySet.as_manager()

    class Meta:
        ordering = ["-shipped_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "tracking"], name="shipment_unique_order_tracking"
            )
        ]

    def __str__(self):
        return self.number


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, related_name="shipment_lines"
    )
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="shipment_line_quantity_positive"
            )
        ]

    def __str__(self):
        return f"{self.shipment_id}: {self.order_line_id} x{self.quantity}"


class InvoiceStatus(models.TextChoices):
    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    CREDITED = "credited", "Credited"
    OVERDUE = "overdue", "Overdue"


# Stored statuses that still await money. "overdue" is derived from the due date on the
# day asked about; a row stored as "overdue" (older data, imports) reads like "open".
UNSETTLED_STATUSES = ("open", "overdue")


class InvoiceQuerySet(models.QuerySet):
    def for_accounts(self, accounts):
        return self.filter(account__in=accounts)

    def with_balance(self):
        return self.annotate(balance=F("total") - F("paid_amount") - F("credited_amount"))

    def unsettled(self):
        return self.filter(status__in=UNSETTLED_STATUSES)

    def with_display_status(self, *, today):
        """The stored status, except an unsettled invoice reads "overdue" once past its
        due date and "open" before: derived from the date asked about, so it is right on
        any day without a nightly job."""
        return self.annotate(
            display_status=Case(
                When(
                    status__in=UNSETTLED_STATUSES,
                    due_on__lt=today,
                    then=Value(InvoiceStatus.OVERDUE.value),
                ),
                When(status__in=UNSETTLED_STATUSES, then=Value(InvoiceStatus.OPEN.value)),
                default=F("status"),
                output_field=models.CharField(),
            )
        )

    def with_status(self, status, *, today):
        """Filter by the displayed status ("overdue" = unsettled and past due)."""
        if status == InvoiceStatus.OVERDUE:
            return self.unsettled().filter(due_on__lt=today)
        if status == InvoiceStatus.OPEN:
            return self.unsettled().filter(due_on__gte=today)
        return self.filter(status=status)


class Invoice(models.Model):
    number = models.CharField(max_length=20, unique=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="invoices")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices")
    shipment = models.OneToOneField(Shipment, on_delete=models.PROTECT, related_name="invoice")
    issued_on = models.DateField()
    due_on = models.DateField()
    terms_label = models.CharField(max_length=40)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    freight = models.DecimalField(max_digits=12, decimal_places=2)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    paid_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    credited_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    status = models.CharField(
        max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN
    )
    pdf = models.FileField(upload_to="invoices/", blank=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_on", "-pk"]
        indexes = [models.Index(fields=["account", "status", "due_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(paid_amount__gte=0) & Q(credited_amount__gte=0),
                name="invoice_settlements_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(total__gte=F("paid_amount") + F("credited_amount")),
                name="invoice_settlements_within_total",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="invoice_total_non_negative"),
        ]

    def __str__(self):
        return self.number

    @property
    def open_balance(self):
        return self.total - self.paid_amount - self.credited_amount


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    description = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    def __str__(self):
        return f"{self.invoice_id}: {self.description}"


class Payment(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    received_on = models.DateField()
    reference = models.CharField(max_length=60, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")
        ]

    def __str__(self):
        return f"{self.invoice_id} paid {self.amount}"


class CreditReason(models.TextChoices):
    DAMAGED = "damaged", "Damaged in transit"
    DEFECT = "defect", "Manufacturing defect"
    MIS_SHIP = "mis_ship", "Wrong item shipped"
    SHORT_SHIP = "short_ship", "Short shipped"
    FREIGHT = "freight", "Freight adjustment"
    RETURN = "return", "Returned goods"


class CreditMemo(models.Model):
    number = models.CharField(max_length=20, unique=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_memos")
    invoice_line = models.ForeignKey(
        InvoiceLine, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_memos"
    )
    reason = models.CharField(max_length=20, choices=CreditReason.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    note = models.CharField(max_length=500, blank=True)
    issued_on = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pdf = models.FileField(upload_to="credit_memos/", blank=True)

    class Meta:
        ordering = ["-issued_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_memo_amount_positive")
        ]

    def __str__(self):
        return self.number


class ReturnAuthorization(models.Model):
    """A prepaid return: authorized -> label issued (its PDF rendered) -> received at the
    warehouse -> credited -> closed."""

    class Status(models.TextChoices):
        AUTHORIZED = "authorized", "Authorized"
        LABEL_ISSUED = "label_issued", "Label issued"
        RECEIVED = "received", "Received at the warehouse"
        CREDITED = "credited", "Credited"
        CLOSED = "closed", "Closed"

    number = models.CharField(max_length=20, unique=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="returns")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    reason = models.CharField(max_length=20, choices=CreditReason.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.AUTHORIZED)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    label_pdf = models.FileField(upload_to="returns/", blank=True)
    case = models.ForeignKey(
        "orders.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="returns"
    )
    # Placeholders the brand's carrier integration fills; the label prints them blank.
    carrier = models.CharField(max_length=20, blank=True)
    tracking = models.CharField(max_length=200, blank=True)
    label_issued_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    credited_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.number


class ReturnLine(models.Model):
    authorization = models.ForeignKey(
        ReturnAuthorization, on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    pairs_received = models.PositiveIntegerField(
        default=0, help_text="Pairs the warehouse received."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="return_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(pairs_received__lte=F("quantity")), name="return_line_received_within"
            ),
        ]

    def __str__(self):
        return f"{self.authorization_id}: {self.order_line_id} x{self.quantity}"

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from orders.models.accounts import Account
from orders.models.fulfilment import (
    CreditMemo,
    CreditReason,
    Invoice,
    InvoiceLine,
    ReturnAuthorization,
)
from orders.models.ordering import Order


class CaseChannel(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    PORTAL = "portal", "Portal"
    API = "api", "API"
    REP = "rep", "Sales rep"


class CaseReason(models.TextChoices):
    DAMAGED = "damaged", "Damaged in transit"
    DEFECT = "defect", "Manufacturing defect"
    MIS_SHIP = "mis_ship", "Wrong item shipped"
    WRONG_SIZE = "wrong_size", "Wrong size shipped"
    SHORT_SHIP = "short_ship", "Short shipped"
    OVER_SHIP = "over_ship", "Over shipped"
    FREIGHT = "freight", "Freight question"
    LATE = "late", "Late or missing delivery"
    ORDER_CHANGE = "order_change", "Order change or cancellation"
    BILLING = "billing", "Billing question"
    OTHER = "other", "Other"


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class CaseOutcome(models.TextChoices):
    CREDIT = "credit", "Credit memo"
    REPLACEMENT = "replacement", "Replacement shipment"
    RETURN = "return", "Prepaid return"
    NO_FAULT = "no_fault", "No fault found"
    OTHER = "other", "Other"


CASE_NUMBER_PREFIX = "CS-"


class CaseQuerySet(models.QuerySet):
    def for_accounts(self, accounts):
        return self.filter(account__in=accounts)

    def with_number(self, number: str):
        """The case called "CS-000123" (its number is its id, shown padded)."""
        digits = str(number or "").strip().upper().removeprefix(CASE_NUMBER_PREFIX)
        if not digits.isascii() or not digits.isdigit() or len(digits) > 12:
            return self.none()
        return self.filter(pk=int(digits))


class Case(models.Model):
    """One contact from a retailer, and everything staff did about it."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="cases")
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    reason = models.CharField(max_length=20, choices=CaseReason.choices)
    channel = models.CharField(max_length=10, choices=CaseChannel.choices)
    summary = models.TextField(blank=True, help_text="What the retailer told us.")
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    resolution = models.TextField(blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField()
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=12, choices=CaseOutcome.choices, blank=True, help_text="How it was resolved."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The brand's person working the case; nobody yet means the service team.",
    )

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        permissions = [
            ("send_replacement", "Can send a no-charge replacement order"),
            ("cancel_order_lines", "Can cancel a retailer's order lines"),
        ]
        indexes = [
            models.Index(fields=["status", "-opened_at"]),
            models.Index(fields=["account", "-opened_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", resolved_at__isnull=True)
                | Q(status="resolved", resolved_at__isnull=False),
                name="case_resolved_has_resolved_at",
            ),
        ]

    def __str__(self):
        return f"Case {self.number}"

    @property
    def number(self) -> str:
        return f"{CASE_NUMBER_PREFIX}{self.pk:06d}"

    @property
    def time_to_resolve(self):
        if self.resolved_at is None:
            return None
        return self.resolved_at - self.opened_at


class CreditApprovalStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved and issued"
    REJECTED = "rejected", "Rejected"


class ConcessionKind(models.TextChoices):
    CREDIT = "credit", "Credit memo"
    REPLACEMENT = "replacement", "Replacement shipment"


class CreditApproval(models.Model):
    """Something given to a retailer on a case: a credit, or a replacement shipment
    (valued at its goods plus the freight waived). Within the requester's authority it is
    given at once (approved, no approver); above it a second person approves or rejects
    it, and approving issues the memo or places the replacement."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="credit_requests")
    kind = models.CharField(
        max_length=12, choices=ConcessionKind.choices, default=ConcessionKind.CREDIT
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    invoice_line = models.ForeignKey(
        InvoiceLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.CharField(max_length=20, choices=CreditReason.choices)
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=10, choices=CreditApprovalStatus.choices, default=CreditApprovalStatus.PENDING
    )
    needed_approval = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    credit_memo = models.OneToOneField(
        CreditMemo, null=True, blank=True, on_delete=models.PROTECT, related_name="approval"
    )
    # A replacement: the order replaced, the pairs to send ([{"sku", "quantity"}]), the
    # part of ``amount`` that is freight waived, and the no-charge order once placed.
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    replacement_lines = models.JSONField(default=list, blank=True)
    freight_value = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    replacement_order = models.OneToOneField(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="replacement_request"
    )
    return_authorization = models.ForeignKey(
        ReturnAuthorization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_requests",
        help_text="The return this credit pays for.",
    )

    class Meta:
        verbose_name = "approval request"
        ordering = ["-requested_at", "-pk"]
        permissions = [("decide_creditapproval", "Can approve or reject a credit request")]
        indexes = [models.Index(fields=["status", "-requested_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="credit_approval_amount_positive"
            ),
            models.CheckConstraint(
                condition=~Q(status="approved")
                | Q(credit_memo__isnull=False)
                | Q(replacement_order__isnull=False),
                name="credit_approval_approved_has_result",
            ),
            models.CheckConstraint(
                condition=~Q(kind="credit") | Q(invoice__isnull=False),
                name="credit_approval_credit_has_invoice",
            ),
            models.CheckConstraint(
                condition=~Q(kind="replacement") | Q(order__isnull=False),
                name="credit_approval_replacement_has_order",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} request {self.pk} ({self.amount})"

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from orders.querysets import AccountQuerySet, CommercialTermsQuerySet, MembershipQuerySet

MONEY = {"max_digits": 12, "decimal_places": 2, "validators": [MinValueValidator(Decimal("0"))]}


class CommercialTerms(models.Model):
    """The brand's published commercial terms. Versioned: an edit is a new row, and each
    order keeps the version it was placed under. The policies page renders the current one."""

    version = models.PositiveIntegerField(unique=True)
    effective_from = models.DateTimeField()
    opening_order_minimum = models.DecimalField(
        default=Decimal("1000.00"), help_text="Minimum value of an account's first order.", **MONEY
    )
    fill_in_minimum_pairs = models.PositiveIntegerField(
        default=6, help_text="Minimum pairs on a reorder (fill-in)."
    )
    free_freight_threshold = models.DecimalField(default=Decimal("500.00"), **MONEY)
    flat_freight = models.DecimalField(
        default=Decimal("15.00"), help_text="Freight charged below the threshold.", **MONEY
    )
    payment_terms_days = models.PositiveIntegerField(default=30, help_text="Net days.")
    processing_days = models.PositiveIntegerField(
        default=2, help_text="Business days to ship an order from stock."
    )
    receiving_days = models.PositiveIntegerField(
        default=3, help_text="Business days from a run's arrival to shipping its backorders."
    )
    backorder_window_days = models.PositiveIntegerField(
        default=45, help_text="Default days a backorder is held before it is cancelled."
    )
    promise_horizon_days = models.PositiveIntegerField(
        default=120, help_text="Nothing is promised further out than this."
    )
    promise_slip_percentile = models.PositiveSmallIntegerField(
        default=90,
        validators=[MaxValueValidator(100)],
        help_text="A backorder's date adds its factory's slip at this percentile of its "
        "record (0: the run's ETA as given).",
    )
    promise_min_history = models.PositiveSmallIntegerField(
        default=5, help_text="Received runs a factory needs before its own record is used."
    )
    promise_default_buffer_days = models.PositiveSmallIntegerField(
        default=0, help_text="Days added to the ETA of a factory with too little history."
    )
    decision_deadline_days = models.PositiveIntegerField(
        default=5, help_text="Days a retailer has to answer a late-ETA decision request."
    )
    overdue_grace_business_days = models.PositiveIntegerField(
        default=2,
        help_text="Business days a planner has to confirm a new ETA for a run past its "
        "ETA before the system records one itself.",
    )
    factory_delay_days = models.PositiveIntegerField(
        default=7,
        help_text="The factory's usual delay: an overdue run nobody confirmed is moved to "
        "today plus this many days.",
    )
    credit_limit = models.DecimalField(
        default=Decimal("50000.00"),
        help_text="Most an account may owe (open invoices plus orders not yet invoiced) "
        "before a new order goes on credit hold.",
        **MONEY,
    )
    past_due_hold_days = models.PositiveIntegerField(
        default=30,
        help_text="An order placed while an invoice is more than this many days past due "
        "goes on credit hold.",
    )
    returns_window_days = models.PositiveIntegerField(default=30)
    defect_claim_days = models.PositiveIntegerField(default=365)
    restocking_fee_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("0.00")
    )
    # Authority: what customer service gives away (credits, replacement goods and the
    # freight waived on them) counts over a rolling period, per person and per account,
    # whatever the case; above a limit a second person approves.
    agent_credit_limit = models.DecimalField(
        default=Decimal("250.00"),
        help_text="Most one agent may give (credits, replacements, free freight) over the "
        "authority period without a second person's approval.",
        **MONEY,
    )
    lead_credit_limit = models.DecimalField(
        default=Decimal("1000.00"),
        help_text="Most one lead may give over the authority period without a second "
        "person's approval.",
        **MONEY,
    )
    account_concession_limit = models.DecimalField(
        default=Decimal("1000.00"),
        help_text="Most the service team together may give one account over the authority "
        "period without a second person's approval.",
        **MONEY,
    )
    authority_period_days = models.PositiveIntegerField(
        default=30, help_text="The rolling period, in days, the limits above count over."
    )
    note = models.CharField(max_length=200, blank=True, help_text="What changed in this version.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CommercialTermsQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "commercial terms"
        ordering = ["-version"]

    def __str__(self):
        return f"Terms v{self.version}"


class CreditStatus(models.TextChoices):
    GOOD = "good", "Good standing"
    HOLD = "hold", "On credit hold"


class DecisionDefault(models.TextChoices):
    CANCEL = "cancel", "Cancel the late quantity"
    KEEP = "keep", "Keep waiting for it"


class Account(models.Model):
    """A retailer company. Overrides left empty fall back to the commercial terms."""

    number = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=150, db_index=True)
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rep_accounts",
        limit_choices_to={"is_sales_rep": True},
    )
    credit_status = models.CharField(
        max_length=10, choices=CreditStatus.choices, default=CreditStatus.GOOD
    )
    payment_terms_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Net days; empty uses the commercial terms."
    )
    dating_until = models.DateField(
        null=True, blank=True, help_text="Dating: invoices fall due on this date instead."
    )
    accepts_backorders = models.BooleanField(default=True)
    backorder_window_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty uses the commercial terms' window."
    )
    decision_default = models.CharField(
        max_length=10,
        choices=DecisionDefault.choices,
        default=DecisionDefault.CANCEL,
        help_text="Applied when a late-ETA decision request is not answered in time.",
    )
    free_freight_threshold = models.DecimalField(
        null=True, blank=True, max_digits=12, decimal_places=2
    )
    credit_limit = models.DecimalField(
        null=True, blank=True, help_text="Empty uses the commercial terms' limit.", **MONEY
    )
    past_due_hold_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty uses the commercial terms' days past due."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.number})"


class ShipTo(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="ship_tos")
    label = models.CharField(max_length=60)
    line1 = models.CharField(max_length=120)
    line2 = models.CharField(max_length=120, blank=True)
    city = models.CharField(max_length=80)
    region = models.CharField(max_length=40)
    postal_code = models.CharField(max_length=20)
    country = models.CharField(max_length=2, default="US")
    is_default = models.BooleanField(default=False)

    class Meta:
        verbose_name = "ship-to address"
        ordering = ["-is_default", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(is_default=True), name="one_default_ship_to"
            )
        ]

    def __str__(self):
        return f"{self.label}: {self.line1}, {self.city}"

    def as_text(self):
        parts = [
            self.line1,
            self.line2,
            f"{self.city}, {self.region} {self.postal_code}",
            self.country,
        ]
        return "\n".join(p for p in parts if p)


class MembershipRole(models.TextChoices):
    BUYER = "buyer", "Buyer (can order)"
    VIEWER = "viewer", "Viewer (can only look)"


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(
        max_length=10, choices=MembershipRole.choices, default=MembershipRole.BUYER
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "account"], name="membership_unique_user_account"
            )
        ]

    def __str__(self):
        return f"{self.user_id} in {self.account_id} as {self.role}"

from django.conf import settings
from django.db import models
from django.db.models import Q

from inventory.models import InboundRun


class DecisionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the retailer"
    KEPT = "kept", "Kept"
    SWITCHED = "switched", "Switched to an alternative"
    CANCELLED = "cancelled", "Cancelled"
    DEFAULTED = "defaulted", "No answer: the account's default applied"
    SUPERSEDED = "superseded", "Replaced by a later ETA change"


class DecisionAction(models.TextChoices):
    KEEP = "keep", "Keep waiting"
    SWITCH = "switch", "Switch to an alternative"
    CANCEL = "cancel", "Cancel the late pairs"


class DecisionRequest(models.Model):
    """A backordered line pushed past its window by an ETA change: keep, switch or cancel,
    answered by the deadline or the account's default applies."""

    line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.CASCADE, related_name="decision_requests"
    )
    run = models.ForeignKey("inventory.InboundRun", on_delete=models.CASCADE, related_name="+")
    eta_change = models.ForeignKey(
        "inventory.EtaChange", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    quantity = models.PositiveIntegerField(help_text="Backordered pairs when it was asked.")
    old_date = models.DateField(help_text="The ship date last told to the retailer.")
    new_date = models.DateField(help_text="The ship date the new ETA gives.")
    deadline = models.DateField(help_text="No answer by the end of this day applies the default.")
    status = models.CharField(
        max_length=12, choices=DecisionStatus.choices, default=DecisionStatus.PENDING
    )
    alternatives = models.JSONField(
        default=list, blank=True, help_text="What was offered: [{sku, description, ships_by}]."
    )
    action = models.CharField(max_length=10, choices=DecisionAction.choices, blank=True)
    switched_to = models.ForeignKey(
        "orders.OrderLine", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["line"],
                condition=Q(status="pending"),
                name="decision_one_pending_per_line",
            ),
            models.UniqueConstraint(
                fields=["line", "eta_change"],
                condition=Q(eta_change__isnull=False),
                name="decision_one_per_line_per_eta_change",
            ),
        ]
        indexes = [
            models.Index(
                fields=["deadline"], condition=Q(status="pending"), name="decision_pending_due"
            )
        ]

    def __str__(self):
        return f"Decision on line {self.line_id}: {self.status}"

    @property
    def is_pending(self):
        return self.status == DecisionStatus.PENDING


class CancelSource(models.TextChoices):
    WINDOW = "window", "Past the backorder window"
    DECISION_DEFAULT = "decision_default", "Decision not answered in time"
    RUN_CANCELLED = "run_cancelled", "Production run cancelled"


class AutoCancellation(models.Model):
    """Backordered pairs the system cancelled. The retailer is told from these rows: the
    daily sweep writes one message per account and stamps `notice_key` in the same
    transaction, so a re-run finds nothing left to tell."""

    line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.CASCADE, related_name="auto_cancellations"
    )
    account = models.ForeignKey("orders.Account", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    source = models.CharField(max_length=20, choices=CancelSource.choices)
    reason = models.CharField(max_length=200)
    on_date = models.DateField()
    notice_key = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["account"], condition=Q(notice_key=""), name="autocancel_untold"),
            models.Index(fields=["notice_key"]),
        ]

    def __str__(self):
        return f"{self.quantity} of line {self.line_id} ({self.source})"


class Receipt(models.Model):
    """One receiving of an inbound run (whole or partial). Keys its messages and, with an
    idempotency key, makes a retried receipt harmless."""

    run = models.ForeignKey("inventory.InboundRun", on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    lines = models.JSONField(default=list, help_text="[{sku, received, filled}]")
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Receipt {self.pk} of {self.run_id}"


class StockShortage(models.Model):
    """A warehouse count below what was allocated, and how it was resolved."""

    stock_level = models.ForeignKey(
        "inventory.StockLevel", on_delete=models.CASCADE, related_name="+"
    )
    counted = models.IntegerField()
    allocated_before = models.IntegerField()
    backordered = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Shortage at {self.stock_level_id}: {self.counted} < {self.allocated_before}"


class OverdueRun(models.Model):
    """A run whose ETA passed without it being received. It stays open until an ETA
    change is recorded for the run (a planner's confirmation, or the system's own after
    the grace period), so an expected date never slides without one."""

    run = models.ForeignKey("inventory.InboundRun", on_delete=models.CASCADE, related_name="+")
    eta = models.DateField("ETA passed", help_text="The ETA that passed unreceived.")
    detected_on = models.DateField()
    eta_change = models.ForeignKey(
        "inventory.EtaChange",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The ETA change that resolved it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["eta", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "eta"], name="overdue_once_per_run_eta"),
        ]
        indexes = [
            models.Index(fields=["eta"], condition=Q(eta_change__isnull=True), name="overdue_open")
        ]

    def __str__(self):
        return f"{self.run_id} overdue since {self.eta}"


class PromiseReport(InboundRun):
    """The promise report in the admin (a page, not a table of its own): did the dates
    promised to stores hold, and each factory's record. Planners and customer service
    read it with the right to view runs."""

    class Meta:
        proxy = True
        default_permissions = ()
        verbose_name = verbose_name_plural = "promise report"


class PromiseDay(models.Model):
    """One day's snapshot of backordered pairs, written by the evening job: summed over
    the days of a period they are the promise report's pair-days (the admin's last 90
    days and the season simulator's report come from these rows alike)."""

    day = models.DateField(unique=True)
    pairs_backordered = models.PositiveIntegerField(default=0)
    pairs_past_window = models.PositiveIntegerField(
        default=0, help_text="Backordered pairs alive after their window ended."
    )
    pairs_free_while_waiting = models.PositiveIntegerField(
        default=0,
        help_text="Free pairs while a backorder of the same SKU and warehouse waited.",
    )
    recorded_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Promise day {self.day}"

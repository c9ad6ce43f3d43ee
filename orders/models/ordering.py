from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from orders.models.accounts import Account, CommercialTerms, ShipTo
from orders.querysets import OrderLineQuerySet, OrderQuerySet


class Cart(models.Model):
    """A server-side cart, one per user and account."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="carts"
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="carts")
    from_upload = models.BooleanField(
        default=False, help_text="Lines came in from a pasted list or an uploaded file."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "account"], name="cart_unique_user_account")
        ]

    def __str__(self):
        return f"Cart {self.user_id}/{self.account_id}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("inventory.SKU", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cart", "sku"], name="cart_line_unique_sku"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cart_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.sku_id} x{self.quantity}"


class OrderSource(models.TextChoices):
    PORTAL = "portal", "Portal"
    REP = "rep", "Sales rep"
    API = "api", "API"
    UPLOAD = "upload", "Upload"
    SERVICE = "service", "Customer service"


class OrderStatus(models.TextChoices):
    OPEN = "open", "Open"
    PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
    SHIPPED = "shipped", "Shipped"
    CANCELLED = "cancelled", "Cancelled"


class BackorderPolicy(models.TextChoices):
    ALLOW = "allow", "Backorder what is not in stock"
    NONE = "none", "Ship what is available, cancel the rest"


class Order(models.Model):
    number = models.CharField(max_length=20, unique=True, null=True)
    # Indexed by order_account_status_totals (and the other indexes led by the account).
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="orders_placed"
    )
    source = models.CharField(
        max_length=10, choices=OrderSource.choices, default=OrderSource.PORTAL
    )
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    po_number = models.CharField("PO number", max_length=40, blank=True)
    ship_to = models.ForeignKey(
        ShipTo, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_ship_date = models.DateField(null=True, blank=True)
    cancel_date = models.DateField(
        null=True, blank=True, help_text="Nothing ships after this date; backorders end with it."
    )
    backorder_policy = models.CharField(
        max_length=10, choices=BackorderPolicy.choices, default=BackorderPolicy.ALLOW
    )
    is_opening_order = models.BooleanField(default=False)
    no_charge = models.BooleanField(default=False, help_text="A replacement sent at no charge.")
    terms = models.ForeignKey(CommercialTerms, on_delete=models.PROTECT, related_name="orders")
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    request_fingerprint = models.CharField(max_length=64, blank=True)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    freight = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    placed_at = models.DateTimeField(default=timezone.now, editable=False)
    # Credit hold (orders.rules.credit_hold_reasons): accepted and allocated, but the
    # warehouse may not ship it until customer service releases it.
    credit_hold_reasons = models.JSONField(
        default=list, blank=True, help_text='Why it was held: [{"code", "reason", "release"}].'
    )
    credit_held_at = models.DateTimeField(null=True, blank=True)
    credit_released_at = models.DateTimeField(null=True, blank=True)
    credit_released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="order_unique_idempotency_key_per_account",
            ),
        ]
        indexes = [
            # The credit position's sum of open orders, read from the index alone.
            models.Index(
                fields=["account", "status"],
                include=["no_charge", "total"],
                name="order_account_status_totals",
            ),
            models.Index(fields=["account", "-placed_at"]),
            models.Index(fields=["account", "po_number"]),
            models.Index(
                fields=["account"],
                condition=Q(credit_held_at__isnull=False, credit_released_at__isnull=True),
                name="order_on_credit_hold",
            ),
        ]

    def __str__(self):
        return self.number or f"Order #{self.pk}"

    @property
    def on_credit_hold(self) -> bool:
        return self.credit_held_at is not None and self.credit_released_at is None


class OrderLine(models.Model):
    """One SKU on an order. Always: quantity = allocated + backordered + shipped + cancelled."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("inventory.SKU", on_delete=models.PROTECT, related_name="order_lines")
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()
    allocated = models.PositiveIntegerField(default=0)
    backordered = models.PositiveIntegerField(default=0)
    shipped = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    cancelled_at_placement = models.PositiveIntegerField(
        default=0,
        help_text="Of the cancelled pairs, those that could not be had when the line was "
        "placed (no stock, no run inside the window): the brand's, told at once.",
    )
    promised_date = models.DateField(
        null=True, blank=True, help_text="The ship date the brand committed to at placement."
    )
    communicated_date = models.DateField(
        null=True, blank=True, help_text="The expected date last told to the retailer."
    )
    window_end = models.DateField(
        null=True, blank=True, help_text="Backordered quantity is cancelled after this date."
    )
    cancel_reason = models.CharField(max_length=200, blank=True)
    substitute_for = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="substitutes"
    )
    queued_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a line added to a placed order joined the backorder queue; empty: "
        "when its order was placed. Waiting pairs are filled oldest first by this.",
    )

    objects = OrderLineQuerySet.as_manager()

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    quantity=F("allocated") + F("backordered") + F("shipped") + F("cancelled")
                ),
                name="order_line_quantity_split",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
            # Cancelled pairs are never restored, so those cancelled at placement stay
            # among them.
            models.CheckConstraint(
                condition=Q(cancelled_at_placement__lte=F("cancelled")),
                name="order_line_cancelled_at_placement_within_cancelled",
            ),
        ]
        indexes = [
            models.Index(
                fields=["window_end"],
                condition=Q(backordered__gt=0),
                name="order_line_open_backorders",
            ),
            models.Index(fields=["sku", "order"]),
        ]

    def __str__(self):
        return f"{self.order_id}/{self.sku_id} x{self.quantity}"

    @property
    def open_quantity(self):
        return self.allocated + self.backordered

    @property
    def line_total(self):
        return self.unit_price * self.quantity


class OrderEdit(models.Model):
    """A change to an open order (lines added, lines reduced), confirmed like a new
    order; one per idempotency key per order."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="edits")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(
        max_length=10, choices=OrderSource.choices, default=OrderSource.PORTAL
    )
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    request_fingerprint = models.CharField(max_length=64, blank=True)
    added = models.JSONField(default=list, help_text='[{"line", "sku", "quantity"}]')
    reduced = models.JSONField(default=list, help_text='[{"line", "sku", "quantity"}]')
    total_before = models.DecimalField(max_digits=12, decimal_places=2)
    total_after = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="order_edit_unique_idempotency_key",
            )
        ]

    def __str__(self):
        return f"Change {self.pk} to {self.order_id}"


class Allocation(models.Model):
    """Demand held against a stock level: the allocated part of a line, per warehouse."""

    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="allocations")
    stock_level = models.ForeignKey(
        "inventory.StockLevel", on_delete=models.PROTECT, related_name="allocations"
    )
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["line", "stock_level"], name="allocation_unique"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="allocation_quantity_positive"
            ),
        ]
        indexes = [models.Index(fields=["stock_level", "-created_at"])]

    def __str__(self):
        return f"{self.line_id} holds {self.quantity} of {self.stock_level_id}"


class BackorderPeg(models.Model):
    """The backordered part of a line, pegged to the inbound line expected to fill it.
    The line's expected date is derived from the peg's run ETA, never copied."""

    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="pegs")
    inbound_line = models.ForeignKey(
        "inventory.InboundLine", on_delete=models.PROTECT, related_name="pegs"
    )
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["line", "inbound_line"], name="peg_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="peg_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.line_id} waits for {self.quantity} of {self.inbound_line_id}"

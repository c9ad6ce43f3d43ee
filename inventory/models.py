from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from inventory.querysets import (
    InboundLineQuerySet,
    InboundRunQuerySet,
    SKUQuerySet,
    StockLevelQuerySet,
)


class Replenishment(models.TextChoices):
    COMMITTED = "committed", "Committed (always re-produced)"
    SEASONAL = "seasonal", "Seasonal"
    DISCONTINUED = "discontinued", "Discontinued"


class Width(models.IntegerChoices):
    """Stored as a rank so widths sort the way a shoe store reads them."""

    NARROW = 1, "N"
    MEDIUM = 2, "M"
    WIDE = 3, "W"
    EXTRA_WIDE = 4, "WW"


class Gender(models.TextChoices):
    WOMEN = "women", "Women's"
    MEN = "men", "Men's"
    UNISEX = "unisex", "Unisex"


class Season(models.Model):
    """A selling season of the line ("SS27", Spring/Summer 2027): styles are designed,
    sold in and line-sheeted by season. The code is what the catalogue feed carries."""

    code = models.CharField(
        max_length=8, primary_key=True, help_text='Short code as the feed carries it: "SS27".'
    )
    name = models.CharField(max_length=60, help_text='"Spring/Summer 2027".')
    starts_on = models.DateField(help_text="First ship date of the season; orders them.")

    class Meta:
        ordering = ["-starts_on", "code"]

    def __str__(self):
        return self.name


class Style(models.Model):
    number = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=120)
    category = models.CharField(max_length=60, db_index=True)
    season = models.ForeignKey(
        Season,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="styles",
        help_text="The season it was introduced in; blank for none.",
    )
    gender = models.CharField(max_length=10, choices=Gender.choices, default=Gender.UNISEX)
    description = models.TextField(blank=True)
    replenishment = models.CharField(
        max_length=20, choices=Replenishment.choices, default=Replenishment.SEASONAL
    )
    lead_time_days = models.PositiveIntegerField(
        default=56, help_text="Production lead time for a new run, in calendar days."
    )
    alternatives = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="alternative_for",
        help_text="Styles offered as substitutes when this one is late.",
    )

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return f"{self.number} {self.name}"


class SKU(models.Model):
    code = models.CharField(max_length=40, unique=True)
    style = models.ForeignKey(Style, on_delete=models.PROTECT, related_name="skus")
    color = models.CharField(max_length=40)
    size = models.DecimalField(max_digits=4, decimal_places=1)
    width = models.PositiveSmallIntegerField(choices=Width.choices, default=Width.MEDIUM)
    upc = models.CharField(max_length=14, unique=True)
    price = models.DecimalField(
        "wholesale price",
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    msrp = models.DecimalField(max_digits=10, decimal_places=2)
    active = models.BooleanField(default=True)
    core = models.BooleanField(default=False, help_text="On the always-stocked core list.")
    quick_ship = models.BooleanField(default=False)

    objects = SKUQuerySet.as_manager()

    class Meta:
        verbose_name = "SKU"
        ordering = ["style__number", "color", "size", "width"]
        constraints = [
            models.UniqueConstraint(
                fields=["style", "color", "size", "width"], name="sku_unique_grid_cell"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="sku_price_non_negative"),
        ]
        indexes = [models.Index(fields=["style", "color", "size", "width"])]

    def __str__(self):
        return self.code

    @property
    def size_label(self):
        return f"{self.size.normalize():f}"


class Warehouse(models.Model):
    code = models.CharField(max_length=10, unique=True)
    name = models.CharField(max_length=80)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_warehouse"
            )
        ]

    def __str__(self):
        return self.code


class StockLevel(models.Model):
    """Stock of one SKU in one warehouse. ATS now = on_hand - allocated - holdback, >= 0."""

    sku = models.ForeignKey(SKU, on_delete=models.PROTECT, related_name="stock_levels")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = models.IntegerField(default=0)
    allocated = models.IntegerField(default=0)
    holdback = models.IntegerField(
        default=0, help_text="Safety buffer that is never offered for sale."
    )

    objects = StockLevelQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sku", "warehouse"], name="stock_unique_sku_warehouse"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_non_negative"),
            models.CheckConstraint(
                condition=Q(allocated__gte=0), name="stock_allocated_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(holdback__gte=0), name="stock_holdback_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(allocated__lte=F("on_hand")), name="stock_allocated_within_on_hand"
            ),
        ]

    def __str__(self):
        return f"{self.sku_id}@{self.warehouse_id}"

    @property
    def ats(self):
        return max(self.on_hand - self.allocated - self.holdback, 0)


class InboundStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    CONFIRMED = "confirmed", "Confirmed"
    IN_TRANSIT = "in_transit", "In transit"
    RECEIVED = "received", "Received"
    CANCELLED = "cancelled", "Cancelled"


OPEN_INBOUND_STATUSES = (InboundStatus.PLANNED, InboundStatus.CONFIRMED, InboundStatus.IN_TRANSIT)


class InboundRun(models.Model):
    """A production lot or purchase order. Its ETA is the one ETA of everything it carries."""

    reference = models.CharField(max_length=40, unique=True)
    factory = models.CharField(max_length=80, blank=True)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="inbound_runs")
    status = models.CharField(
        max_length=20, choices=InboundStatus.choices, default=InboundStatus.PLANNED
    )
    eta = models.DateField("ETA")
    arrived_on = models.DateField(
        null=True,
        blank=True,
        help_text="Day its latest pairs were received (its factory's record).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = InboundRunQuerySet.as_manager()

    class Meta:
        ordering = ["eta", "reference"]
        indexes = [models.Index(fields=["status", "eta"])]
        permissions = [
            ("change_eta", "Can change an inbound run's ETA (with a reason)"),
            ("sync_stock", "Can push warehouse stock counts"),
        ]

    def __str__(self):
        return self.reference

    @property
    def is_open(self):
        return self.status in OPEN_INBOUND_STATUSES


class InboundLine(models.Model):
    run = models.ForeignKey(InboundRun, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(SKU, on_delete=models.PROTECT, related_name="inbound_lines")
    quantity = models.PositiveIntegerField()
    received = models.PositiveIntegerField(default=0)
    promised = models.PositiveIntegerField(
        default=0, help_text="Quantity still to come that is pegged to waiting backorders."
    )

    objects = InboundLineQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "sku"], name="inbound_line_unique_sku"),
            models.CheckConstraint(
                condition=Q(promised__lte=F("quantity") - F("received")),
                name="inbound_promised_within_outstanding",
            ),
        ]
        indexes = [models.Index(fields=["sku", "run"])]

    def __str__(self):
        return f"{self.run_id}:{self.sku_id} x{self.quantity}"

    @property
    def outstanding(self):
        return max(self.quantity - self.received, 0)


class EtaChange(models.Model):
    """The history of every ETA move: old, new, why, who and when. Never edited."""

    run = models.ForeignKey(InboundRun, on_delete=models.CASCADE, related_name="eta_changes")
    old_eta = models.DateField()
    new_eta = models.DateField()
    reason = models.CharField(max_length=500)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        get_latest_by = "changed_at"

    def __str__(self):
        return f"{self.run_id}: {self.old_eta} -> {self.new_eta}"


class PriceList(models.Model):
    """A wholesale price list: a percentage off the base list (SKU.price), and explicit
    prices per style or per SKU that override it. Effective from `starts_on` to `ends_on`
    (inclusive; open-ended when blank), so next season's list can be loaded early.
    Accounts are assigned lists in orders (PriceListAssignment); an account with none in
    effect pays the base list."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    percent_off = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00")), MaxValueValidator(Decimal("100.00"))],
        help_text="Percent off the base wholesale price for SKUs without an explicit price.",
    )
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_on", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent_off__gte=0) & Q(percent_off__lte=100),
                name="price_list_percent_off_range",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="price_list_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class PriceListItem(models.Model):
    """An explicit price on a list, for every SKU of a style or for one SKU (which wins)."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    style = models.ForeignKey(
        Style, null=True, blank=True, on_delete=models.CASCADE, related_name="price_items"
    )
    sku = models.ForeignKey(
        SKU, null=True, blank=True, on_delete=models.CASCADE, related_name="price_items"
    )
    price = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(style__isnull=True, sku__isnull=False)
                | Q(style__isnull=False, sku__isnull=True),
                name="price_item_style_or_sku",
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="price_item_non_negative"),
            models.UniqueConstraint(
                fields=["price_list", "sku"],
                condition=Q(sku__isnull=False),
                name="price_item_unique_sku",
            ),
            models.UniqueConstraint(
                fields=["price_list", "style"],
                condition=Q(style__isnull=False),
                name="price_item_unique_style",
            ),
        ]

    def __str__(self):
        return f"{self.price_list_id}: {self.sku_id or self.style_id} {self.price}"


class StyleImage(models.Model):
    """A picture of a style in one colour (blank: every colour), in display order. The
    original is kept; the sizes the pages show are made once, when it is added
    (inventory.images), under names that change with the content, so they are served
    with long cache lifetimes."""

    style = models.ForeignKey(Style, on_delete=models.CASCADE, related_name="images")
    color = models.CharField(max_length=40, blank=True, help_text="Blank: shown for every colour.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Lower shows first.")
    alt_text = models.CharField(
        max_length=200, blank=True, help_text="What the picture shows, for screen readers."
    )
    original = models.ImageField(upload_to="catalogue/originals/")
    thumb = models.ImageField(upload_to="catalogue/", blank=True, editable=False)
    card = models.ImageField(upload_to="catalogue/", blank=True, editable=False)
    large = models.ImageField(upload_to="catalogue/", blank=True, editable=False)

    class Meta:
        ordering = ["style", "color", "position", "pk"]
        indexes = [models.Index(fields=["style", "color", "position"])]

    def __str__(self):
        return f"{self.style_id} {self.color or '(all)'} #{self.position}"

    @property
    def description(self) -> str:
        """The alt text: as written, else the style and colour."""
        if self.alt_text:
            return self.alt_text
        return f"{self.style.name} in {self.color}" if self.color else self.style.name

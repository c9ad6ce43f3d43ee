"""The catalogue's filters and their counts: one FilterSet for the catalogue page and the
API (GET /api/v1/skus/), so both accept the same parameters and refuse the same bad
values, and the count of styles behind each value of each facet.

Every filter narrows the active SKUs; a style matches when one of its SKUs does. A
facet's counts apply every other filter but its own (choosing "Boots" still shows how
many sandals there are), the way store buyers know from NuORDER and JOOR."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import django_filters
from django import forms
from django.core.cache import cache
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from inventory.calendar import add_business_days
from inventory.models import (
    OPEN_INBOUND_STATUSES,
    SKU,
    Gender,
    InboundLine,
    Season,
    StockLevel,
    Style,
    Width,
)

WIDTHS = {label: value for value, label in Width.choices}
SIZES = [f"{Decimal(n) / 2:g}" for n in range(2, 41)]  # 1 to 20 with halves
LISTS = {"core": "Core list", "quick_ship": "Quick ship"}
FAR_DAYS = 3650


def in_stock_now():
    """A SKU with pairs available now in some warehouse (ATS > 0 there)."""
    return Exists(
        StockLevel.objects.filter(sku=OuterRef("pk"), on_hand__gt=F("allocated") + F("holdback"))
    )


def _categories():
    categories = Style.objects.order_by("category").values_list("category", flat=True).distinct()
    return [(c, c) for c in categories]


def _seasons():
    return list(Season.objects.values_list("code", "name"))


def _colors():
    colors = SKU.objects.active().order_by("color").values_list("color", flat=True).distinct()
    return [(c, c) for c in colors]


class CatalogueFilter(django_filters.FilterSet):
    """The shared filters. Built with `ship_days` (processing, receiving business days,
    from the commercial terms) for ships_by; the queryset must carry `list_price` (the
    caller's price: inventory.pricing.priced) for the price range."""

    q = django_filters.CharFilter(
        method="filter_q", help_text="SKU code, UPC, style number or name, colour."
    )
    category = django_filters.MultipleChoiceFilter(
        field_name="style__category", choices=_categories, help_text="Repeat for several."
    )
    season = django_filters.MultipleChoiceFilter(
        field_name="style__season",
        choices=_seasons,
        help_text='Season codes, e.g. "SS27"; repeat for several.',
    )
    gender = django_filters.MultipleChoiceFilter(
        field_name="style__gender", choices=Gender.choices, help_text="women, men or unisex."
    )
    color = django_filters.MultipleChoiceFilter(choices=_colors, help_text="Repeat for several.")
    width = django_filters.MultipleChoiceFilter(
        choices=[(label, label) for label in WIDTHS],
        method="filter_width",
        help_text="N, M, W, WW.",
    )
    size = django_filters.MultipleChoiceFilter(
        choices=[(size, size) for size in SIZES],
        method="filter_size",
        help_text='Sizes with pairs available now, e.g. "8.5"; repeat for several.',
    )
    ships_by = django_filters.DateFilter(
        method="filter_ships_by",
        help_text="Only what can ship by this date (YYYY-MM-DD): from stock, or from a "
        "production run due in time.",
    )
    list = django_filters.MultipleChoiceFilter(
        choices=tuple(LISTS.items()),
        method="filter_list",
        help_text="core and/or quick_ship.",
    )
    price_min = django_filters.NumberFilter(
        field_name="list_price", lookup_expr="gte", min_value=0, help_text="Your price, at least."
    )
    price_max = django_filters.NumberFilter(
        field_name="list_price", lookup_expr="lte", min_value=0, help_text="Your price, at most."
    )

    class Meta:
        model = SKU
        fields = []

    def __init__(self, *args, ship_days: tuple[int, int] = (0, 0), today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.processing_days, self.receiving_days = ship_days
        self.today = today or timezone.localdate()
        self.form.fields["price_min"].widget = forms.NumberInput(attrs={"min": 0, "step": 1})
        self.form.fields["price_max"].widget = forms.NumberInput(attrs={"min": 0, "step": 1})

    def filter_q(self, queryset, name, value):
        return queryset.matching(value)

    def filter_width(self, queryset, name, value):
        return queryset.filter(width__in=[WIDTHS[label] for label in value]) if value else queryset

    def filter_size(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(in_stock_now(), size__in=[Decimal(size) for size in value])

    def filter_list(self, queryset, name, value):
        condition = Q()
        for flag in value:
            condition |= Q(**{flag: True})
        return queryset.filter(condition)

    def filter_ships_by(self, queryset, name, value):
        # Nothing is scheduled years out; a far date means "whenever" (and keeps the
        # business-day arithmetic below clear of the calendar's end).
        value = min(value, self.today + dt.timedelta(days=FAR_DAYS))
        from_stock = add_business_days(self.today, self.processing_days) <= value
        latest_eta = self._latest_eta(value)
        condition = Q(pk__in=[])
        if latest_eta:
            condition = Exists(
                InboundLine.objects.filter(
                    sku=OuterRef("pk"),
                    run__status__in=OPEN_INBOUND_STATUSES,
                    run__eta__lte=latest_eta,
                    promised__lt=F("quantity") - F("received"),
                )
            )
        if from_stock:
            condition = in_stock_now() | condition
        return queryset.filter(condition)

    def _latest_eta(self, ships_by: dt.date) -> dt.date | None:
        """The latest run ETA whose goods still ship by `ships_by` (receiving days after
        arrival, and a run due in the past counts as arriving today); None if none can."""
        if add_business_days(self.today, self.receiving_days) > ships_by:
            return None
        eta = ships_by
        while add_business_days(eta, self.receiving_days) > ships_by:
            eta -= dt.timedelta(days=1)
        return eta


# --- Counts --------------------------------------------------------------------------

FACETS = ("season", "category", "gender", "color", "width", "size", "list")


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


COUNT_SECONDS = 60


def facet_counts(
    filterset: CatalogueFilter, *, cache_key: str | None = None
) -> dict[str, list[FacetValue]]:
    """For each facet, every value with the number of styles it would show, under every
    other filter applied. One query per facet (GROUP BY), whatever the data size.

    Each count scans every SKU the other filters leave (hundreds of milliseconds at 100x
    data), so with a `cache_key` (the filters and the price list) the counts are kept
    for COUNT_SECONDS: a count may be a minute old; the results never are."""
    if cache_key and (cached := cache.get(cache_key)) is not None:
        return cached
    data = filterset.form.cleaned_data
    counts = {}
    for facet in FACETS:
        others = _without(filterset, facet)
        selected = set(data.get(facet) or ())
        counts[facet] = _count(facet, others, selected)
    if cache_key:
        cache.set(cache_key, counts, COUNT_SECONDS)
    return counts


def _without(filterset: CatalogueFilter, facet: str) -> QuerySet:
    queryset = filterset.queryset
    for name, value in filterset.form.cleaned_data.items():
        if name != facet and value not in (None, "", [], ()):
            queryset = filterset.filters[name].filter(queryset, value)
    return queryset


def _count(facet, queryset, selected) -> list[FacetValue]:
    styles = Count("style_id", distinct=True)
    if facet == "list":
        row = queryset.aggregate(
            core=Count("style_id", filter=Q(core=True), distinct=True),
            quick_ship=Count("style_id", filter=Q(quick_ship=True), distinct=True),
        )
        return [FacetValue(key, label, row[key], key in selected) for key, label in LISTS.items()]
    if facet == "season":
        rows = (
            queryset.filter(style__season__isnull=False)
            .order_by()
            .values_list("style__season", "style__season__name", "style__season__starts_on")
            .annotate(n=styles)
            .order_by("-style__season__starts_on")
        )
        return [FacetValue(code, name, count, code in selected) for code, name, _, count in rows]
    if facet == "size":
        queryset = queryset.filter(in_stock_now())
    field = {
        "category": "style__category",
        "gender": "style__gender",
        "color": "color",
        "width": "width",
        "size": "size",
    }[facet]
    rows = queryset.order_by().values_list(field).annotate(n=styles).order_by(field)
    genders = dict(Gender.choices)
    values = []
    for value, count in rows:
        if facet == "width":
            value = label = Width(value).label
        elif facet == "size":
            value = label = f"{Decimal(value).normalize():f}"
        else:
            label = genders.get(value, value) if facet == "gender" else value
        values.append(FacetValue(value, label, count, value in selected))
    return values

"""The catalogue's filters and their counts: one FilterSet for the catalogue page and the
API (GET /api/v1/skus/), so both accept the same parameters and refuse the same bad
values, and the count of styles behind each value of each facet.

Every filter narrows the active SKUs; a style matches when one of its SKUs does. A
facet's counts apply every other filter but its own (choosing "Boots" still shows how
many sandals there are), the way store buyers know from NuORDER and JOOR."""

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import django_filters
from django import forms
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connections
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
# The facets that count stock (sizes with pairs now), and the filters that read stock or
# the production calendar: counts under them move with every order, receipt and count.
STOCK_FACETS = ("size",)
STOCK_FILTERS = ("size", "ships_by")


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class CountKeys:
    """Where the counts are kept: `catalogue` for counts that read only the catalogue
    (styles, SKUs, seasons, price lists), `stock` for those that read stock or the
    production calendar. Each must name everything its counts depend on: the filters,
    the price list, and a version that moves whenever a row they read changes."""

    catalogue: str
    stock: str


COUNT_SECONDS = 60
# One process counts a set of counts missing from the cache while the others wait for
# its answer (sixteen requests for the same page at once count once).
COUNTING_SECONDS = 30
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05


def facet_counts(
    filterset: CatalogueFilter, *, cache_keys: CountKeys | None = None
) -> dict[str, list[FacetValue]]:
    """For each facet, every value with the number of styles it would show, under every
    other filter applied.

    The facets whose own filter is not set share one set of SKUs (every filter applied)
    and are counted together in one query; each facet with its own filter set is counted
    over the SKUs the other filters leave, and sizes in stock over theirs: from 2 queries
    (no filter) to 7 (every facet filtered), whatever the data size.

    With `cache_keys` the counts are kept, the stock-independent ones under
    `cache_keys.catalogue` and the rest under `cache_keys.stock`: exact as long as
    the keys' versions are."""
    moving = set(FACETS) if _reads_stock(filterset.form.cleaned_data) else set(STOCK_FACETS)
    parts = {
        part: facets
        for part, facets in (
            ("catalogue", [f for f in FACETS if f not in moving]),
            ("stock", [f for f in FACETS if f in moving]),
        )
        if facets
    }
    counts = {}
    if cache_keys is None:
        for facets in parts.values():
            counts.update(_counts(filterset, facets))
        return {facet: counts[facet] for facet in FACETS}
    keys = {part: getattr(cache_keys, part) for part in parts}
    kept = cache.get_many(list(keys.values()))
    for part, facets in parts.items():
        if keys[part] in kept:
            counts.update(kept[keys[part]])
        else:
            counts.update(counted_once(keys[part], lambda f=facets: _counts(filterset, f)))
    return {facet: counts[facet] for facet in FACETS}


def counted_once(key: str, count):
    """`count()`, kept under `key` for COUNT_SECONDS. While another process is counting
    the same key, wait for its answer (up to WAIT_SECONDS) rather than count it again."""
    claim = f"{key}:counting"
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        if cache.add(claim, 1, COUNTING_SECONDS):
            try:
                value = count()
                cache.set(key, value, COUNT_SECONDS)
                return value
            finally:
                cache.delete(claim)
        if time.monotonic() >= deadline:
            return count()
        time.sleep(POLL_SECONDS)
        found = cache.get_many([key, claim])
        if key in found:
            return found[key]
        # Neither the counts nor a claim: the counter gave up; claim it in turn.


def _reads_stock(data) -> bool:
    return any(data.get(name) not in (None, "", [], ()) for name in STOCK_FILTERS)


def _counts(filterset: CatalogueFilter, facets: list[str]) -> dict[str, list[FacetValue]]:
    data = filterset.form.cleaned_data
    counts = {}
    shared = [f for f in facets if f not in STOCK_FACETS and not _is_set(data, f)]
    if shared:
        counts.update(_shared_counts(shared, filterset.qs, data))
    for facet in facets:
        if facet == "size":
            counts[facet] = _size_counts(_without(filterset, facet), set(data.get(facet) or ()))
        elif facet not in counts:
            counts.update(_shared_counts([facet], _without(filterset, facet), data))
    return counts


def _is_set(data, facet) -> bool:
    return data.get(facet) not in (None, "", [], ())


def _without(filterset: CatalogueFilter, facet: str) -> QuerySet:
    queryset = filterset.queryset
    for name, value in filterset.form.cleaned_data.items():
        if name != facet and value not in (None, "", [], ()):
            queryset = filterset.filters[name].filter(queryset, value)
    return queryset


def _shared_counts(facets, queryset, data) -> dict[str, list[FacetValue]]:
    """Several facets over one set of SKUs, in one query: the SKUs are reduced once to
    their distinct (style, colour, width, lists) and each facet counts styles in that
    (a few rows per style, where the SKUs are dozens), with no sort of the SKUs."""
    distinct = (
        queryset.order_by()
        .values("style_id", "color", "width", "core", "quick_ship")
        .distinct()
        .query
    )
    try:
        sql, params = distinct.sql_with_params()
    except EmptyResultSet:  # a filter nothing can match (ships_by before any ship date)
        sql, params = None, ()
    style, season = Style._meta.db_table, Season._meta.db_table
    in_m = "st.id IN (SELECT style_id FROM m)"
    # (facet, value, label, its place in the list, styles), each list in the SQL order
    # the facets had when counted one by one.
    parts = {
        "season": f"""SELECT 'season', st.season_id, se.name,
                ROW_NUMBER() OVER (ORDER BY se.starts_on DESC, st.season_id), COUNT(*)
            FROM {style} st JOIN {season} se ON se.code = st.season_id
            WHERE {in_m} GROUP BY st.season_id, se.name, se.starts_on""",
        "category": f"""SELECT 'category', st.category, NULL,
                ROW_NUMBER() OVER (ORDER BY st.category), COUNT(*)
            FROM {style} st WHERE {in_m} GROUP BY st.category""",
        "gender": f"""SELECT 'gender', st.gender, NULL,
                ROW_NUMBER() OVER (ORDER BY st.gender), COUNT(*)
            FROM {style} st WHERE {in_m} GROUP BY st.gender""",
        "color": """SELECT 'color', color, NULL, ROW_NUMBER() OVER (ORDER BY color), COUNT(*)
            FROM (SELECT DISTINCT style_id, color FROM m) c GROUP BY color""",
        "width": """SELECT 'width', CAST(width AS TEXT), NULL,
                ROW_NUMBER() OVER (ORDER BY width), COUNT(*)
            FROM (SELECT DISTINCT style_id, width FROM m) w GROUP BY width""",
        "list": """SELECT 'list', 'core', NULL, 1, COUNT(DISTINCT style_id) FROM m WHERE core
            UNION ALL
            SELECT 'list', 'quick_ship', NULL, 2, COUNT(DISTINCT style_id)
            FROM m WHERE quick_ship""",
    }
    statement = f"WITH m AS ({sql}) " + " UNION ALL ".join(parts[f] for f in facets)
    rows = defaultdict(list, {"list": [(1, "core", None, 0), (2, "quick_ship", None, 0)]})
    if sql is not None:
        rows.clear()
        with connections[queryset.db].cursor() as cursor:
            cursor.execute(statement, params)
            for facet, value, label, place, count in cursor.fetchall():
                rows[facet].append((place, value, label, count))
    genders = dict(Gender.choices)
    counts = {}
    for facet in facets:
        selected = set(data.get(facet) or ())
        values = []
        for _, value, label, count in sorted(rows[facet]):
            if facet == "width":
                value = label = Width(int(value)).label
            elif facet == "list":
                label = LISTS[value]
            elif facet == "gender":
                label = genders.get(value, value)
            elif facet != "season":
                label = value
            values.append(FacetValue(value, label, count, value in selected))
        counts[facet] = values
    return counts


def _size_counts(queryset, selected) -> list[FacetValue]:
    """Styles with pairs available now in each size. (Counted distinct per size over the
    SKUs in stock: at 100x data faster than reducing them to distinct pairs first.)"""
    rows = (
        queryset.filter(in_stock_now())
        .order_by()
        .values_list("size")
        .annotate(n=Count("style_id", distinct=True))
        .order_by("size")
    )
    values = []
    for size, count in rows:
        value = f"{Decimal(size).normalize():f}"
        values.append(FacetValue(value, value, count, value in selected))
    return values

"""Wholesale prices under a price list: an explicit SKU price, else the style's explicit
price, else the base price less the list's percentage, rounded to the cent (half up).

The same rule twice: as a SQL expression (the catalogue filters and sorts on it, and
computes it only for the rows it shows) and in Python for a set of SKUs (placement and
the cart). tests/inventory/test_pricing.py holds the two to the same answers."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Round

from inventory.models import SKU, PriceList, PriceListItem

CENT = Decimal("0.01")
PRICE_FIELD = DecimalField(max_digits=10, decimal_places=2)


@dataclass(frozen=True)
class PriceRange:
    """The lowest and highest of a set of prices (the sizes of a colour may differ)."""

    low: Decimal
    high: Decimal

    @classmethod
    def of(cls, prices) -> "PriceRange":
        prices = list(prices)
        return cls(min(prices), max(prices))


def priced(skus, price_list: PriceList | None):
    """SKUs annotated with `list_price`: their price under the list (None: base list)."""
    return skus.annotate(list_price=price_expression(price_list))


def discounted(base: Decimal, percent_off: Decimal) -> Decimal:
    return (base * (100 - percent_off) / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def price_expression(price_list: PriceList | None, prefix: str = ""):
    """The SQL for the price of the SKU row (or of `prefix`, e.g. "sku__") under a list."""
    if price_list is None:
        return F(f"{prefix}price")
    factor = (Decimal(100) - price_list.percent_off) / 100
    base = ExpressionWrapper(F(f"{prefix}price") * Value(factor), output_field=PRICE_FIELD)
    # A lookup per row for each kind of explicit price the list has, and only for those:
    # filtering every SKU on its price costs two index probes a row otherwise.
    sku_items, style_items = _item_kinds(price_list)
    items = PriceListItem.objects.filter(price_list=price_list)
    lookups = []
    if sku_items:
        sku_price = items.filter(sku=OuterRef(f"{prefix}pk")).values("price")[:1]
        lookups.append(Subquery(sku_price, output_field=PRICE_FIELD))
    if style_items:
        style_price = items.filter(style=OuterRef(f"{prefix}style_id")).values("price")[:1]
        lookups.append(Subquery(style_price, output_field=PRICE_FIELD))
    if not lookups:
        return Round(base, 2, output_field=PRICE_FIELD)
    return Coalesce(*lookups, Round(base, 2), output_field=PRICE_FIELD)


def _item_kinds(price_list: PriceList) -> tuple[int, int]:
    """How many explicit SKU and style prices the list has (read once per list object)."""
    if not hasattr(price_list, "_item_kinds"):
        counts = price_list.items.aggregate(skus=Count("sku_id"), styles=Count("style_id"))
        price_list._item_kinds = (counts["skus"], counts["styles"])
    return price_list._item_kinds


def prices_for_skus(*, price_list: PriceList | None, skus) -> dict[int, Decimal]:
    """The price of each SKU (objects with pk, style_id and price) in one query at most."""
    skus = list(skus)
    if price_list is None:
        return {sku.pk: sku.price for sku in skus}
    by_sku, by_style = {}, {}
    items = PriceListItem.objects.filter(price_list=price_list).filter(
        Q(sku_id__in=[sku.pk for sku in skus]) | Q(style_id__in={sku.style_id for sku in skus})
    )
    for sku_id, style_id, price in items.values_list("sku_id", "style_id", "price"):
        if sku_id:
            by_sku[sku_id] = price
        else:
            by_style[style_id] = price
    return {sku.pk: _price(sku, by_sku, by_style, price_list.percent_off) for sku in skus}


def _price(sku, by_sku, by_style, percent_off) -> Decimal:
    if sku.pk in by_sku:  # an explicit price of 0.00 is a price, so no `or` chain
        return by_sku[sku.pk]
    if sku.style_id in by_style:
        return by_style[sku.style_id]
    return discounted(sku.price, percent_off)


def sku_prices(*, price_list: PriceList | None, sku_ids) -> dict[int, Decimal]:
    """prices_for_skus by id (two queries at most)."""
    skus = SKU.objects.filter(pk__in=list(sku_ids)).only("pk", "style_id", "price")
    return prices_for_skus(price_list=price_list, skus=skus)

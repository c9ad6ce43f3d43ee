from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from inventory.models import SKU, StockLevel, Width
from inventory.selectors import ats_by_sku
from tests.factories import (
    InboundLineFactory,
    SKUFactory,
    StockLevelFactory,
    StyleFactory,
    WarehouseFactory,
)


@pytest.mark.django_db
def test_sizes_and_widths_sort_the_way_a_shoe_store_reads_them():
    # given a grid created in a scrambled order
    style = StyleFactory()
    cells = [
        ("13", Width.WIDE),
        ("5", Width.EXTRA_WIDE),
        ("10", Width.MEDIUM),
        ("5.5", Width.NARROW),
        ("12", Width.MEDIUM),
        ("9.5", Width.WIDE),
        ("5", Width.NARROW),
        ("5", Width.MEDIUM),
    ]
    for size, width in cells:
        SKUFactory(style=style, size=Decimal(size), width=width)

    # when
    rows = list(SKU.objects.filter(style=style).values_list("size", "width"))

    # then sizes sort numerically (not 10, 12, 13, 5) and widths N, M, W, WW (not M, N, ...)
    assert [(f"{size.normalize():f}", Width(width).label) for size, width in rows] == [
        ("5", "N"), ("5", "M"), ("5", "WW"), ("5.5", "N"), ("9.5", "W"), ("10", "M"),
        ("12", "M"), ("13", "W"),
    ]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("on_hand", "allocated", "holdback"),
    [(5, 6, 0), (-1, 0, 0), (5, -1, 0), (5, 0, -1)],
    ids=["allocated-over-on-hand", "negative-on-hand", "negative-allocated", "negative-holdback"],
)
def test_database_rejects_impossible_stock_levels(on_hand, allocated, holdback):
    sku, warehouse = SKUFactory(), WarehouseFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.create(
            sku=sku, warehouse=warehouse, on_hand=on_hand, allocated=allocated, holdback=holdback
        )
    assert not StockLevel.objects.filter(sku=sku).exists()


@pytest.mark.django_db
def test_database_rejects_an_update_that_would_oversell():
    level = StockLevelFactory(on_hand=5, allocated=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(pk=level.pk).update(allocated=F("allocated") + 1)
    level.refresh_from_db()
    assert level.allocated == 5


@pytest.mark.django_db
def test_database_rejects_promising_more_than_an_inbound_line_still_brings():
    line = InboundLineFactory(quantity=10, received=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        type(line).objects.filter(pk=line.pk).update(promised=7)
    line.refresh_from_db()
    assert line.promised == 0


@pytest.mark.django_db
def test_ats_is_on_hand_less_allocated_less_holdback_never_below_zero_computed_in_sql():
    # given one SKU in two warehouses: one short of its holdback, one with stock
    sku = SKUFactory()
    StockLevelFactory(sku=sku, warehouse=WarehouseFactory(), on_hand=10, allocated=4, holdback=9)
    StockLevelFactory(
        sku=sku,
        warehouse=WarehouseFactory(code="WEST", is_default=False),
        on_hand=20,
        allocated=5,
        holdback=3,
    )
    empty = SKUFactory()

    # when
    per_level = sorted(
        StockLevel.objects.filter(sku=sku).with_ats().values_list("ats_now", flat=True)
    )
    per_sku = dict(
        SKU.objects.filter(pk__in=[sku.pk, empty.pk]).with_ats().values_list("pk", "ats_now")
    )

    # then the short level counts 0 (it does not eat into the other warehouse's 12)
    assert per_level == [0, 12]
    assert per_sku == {sku.pk: 12, empty.pk: 0}
    assert ats_by_sku(sku_ids=[sku.pk, empty.pk]) == {sku.pk: 12, empty.pk: 0}

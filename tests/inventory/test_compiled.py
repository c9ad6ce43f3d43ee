"""Compiled reads (inventory.compiled): the SQL is kept, never rows, so each run reads
the data as it is then, with that run's values, as the ORM's own query would."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import CharField, IntegerField

from inventory.compiled import (
    CompiledByCount,
    CompiledRead,
    model_columns,
    models_built,
    rows_together,
    slot,
)
from inventory.models import SKU, StockLevel
from tests.factories import SKUFactory, StockLevelFactory

CODED = CompiledRead(
    lambda: SKU.objects.filter(code=slot("code", CharField())).values_list(
        *model_columns(SKU, "style")
    )
)
LEVELS = CompiledByCount(
    lambda sku_ids: (
        StockLevel.objects.filter(sku__pk__in=sku_ids)
        .order_by("pk")
        .values_list("sku_id", "on_hand")
    ),
    IntegerField(),
)


def test_a_compiled_read_runs_with_each_calls_values_and_reads_the_data_fresh(db):
    first, second = SKUFactory(price=Decimal("40.00")), SKUFactory(price=Decimal("55.50"))

    (one,) = models_built(SKU, CODED.rows(code=first.code), "style")
    (other,) = models_built(SKU, CODED.rows(code=second.code), "style")
    SKU.objects.filter(pk=first.pk).update(price=Decimal("41.25"))
    (again,) = models_built(SKU, CODED.rows(code=first.code), "style")

    assert (one.pk, one.price, one.style.name) == (first.pk, Decimal("40.00"), first.style.name)
    assert (other.pk, other.price) == (second.pk, Decimal("55.50"))
    assert again.price == Decimal("41.25")
    assert CODED.rows(code="NO-SUCH-CODE") == []


def test_a_compiled_in_list_takes_lists_of_any_length(db):
    levels = [StockLevelFactory(on_hand=on_hand) for on_hand in (3, 5, 8)]
    ids = [level.sku_id for level in levels]

    assert LEVELS.rows(ids[:1]) == [(ids[0], 3)]
    assert LEVELS.rows(ids) == [(ids[0], 3), (ids[1], 5), (ids[2], 8)]
    assert LEVELS.rows(ids[1:]) == [(ids[1], 5), (ids[2], 8)]


def test_reads_run_together_keep_each_reads_rows_apart(db):
    levels = [StockLevelFactory(on_hand=on_hand) for on_hand in (2, 7)]
    ids = [level.sku_id for level in levels]
    code = levels[0].sku.code
    reads = [CODED.bound(code=code), LEVELS.bound(ids), CODED.bound(code="NO-SUCH-CODE")]

    together = rows_together(*reads)

    assert [sorted(rows) for rows in together] == [sorted(read.rows()) for read in reads]
    assert [len(rows) for rows in together] == [1, 2, 0]
    assert models_built(SKU, together[0], "style")[0].style.pk == levels[0].sku.style_id


# A read no other test prepares: its plans on this connection are this test's alone.
CODED_ONCE = CompiledRead(
    lambda: SKU.objects.filter(code=slot("code", CharField())).values_list("code", "pk")
)


def _plans() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, generic_plans, custom_plans FROM pg_prepared_statements")
        return {name: (generic, custom) for name, generic, custom in cursor.fetchall()}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared on PostgreSQL only")
def test_a_prepared_read_keeps_one_generic_plan_for_every_run(db):
    # PostgreSQL's default makes a custom plan for each of the first five runs, and then
    # for every run whose custom plan looks cheaper: planning cost more than the reads.
    sku = SKUFactory()
    before = _plans()
    for _ in range(7):
        assert CODED_ONCE.rows(code=sku.code) == [(sku.code, sku.pk)]
    after = _plans()
    assert [plans for name, plans in after.items() if name not in before] == [(7, 0)]

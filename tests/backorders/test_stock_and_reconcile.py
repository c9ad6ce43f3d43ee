import pytest
from django.core.management import call_command

from backorders.exceptions import BackorderInputError
from backorders.services import StockCountRequest, reconcile, stock_sync
from inventory.models import InboundLine, Replenishment, StockLevel
from orders.models import BackorderPolicy
from tests.backorders.helpers import (
    assert_counters,
    assert_split,
    backordered_line,
    messages,
    run_with,
)
from tests.factories import SKUFactory, StaffFactory, StyleFactory


def test_shortage_moves_the_newest_allocations_to_backorder_when_eligible(
    account, buyer, warehouse
):
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, quantity=50)
    old = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=6, on_hand=20)
    new = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=6, on_hand=20)
    assert (old.allocated, new.allocated) == (6, 6)
    # when the warehouse counts 8 pairs: 4 short
    result = stock_sync(counts=[StockCountRequest(sku.code, 8)], user=StaffFactory())
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.allocated == 6  # the oldest keeps its pairs
    assert (new.allocated, new.backordered) == (2, 4)
    assert new.pegs.get().inbound_line.run_id == run.pk
    level = StockLevel.objects.get(sku=sku)
    assert (level.on_hand, level.allocated) == (8, 8)
    assert result.backordered == 4
    notice = messages("stock_shortage").get()
    assert notice.context["lines"] == [
        {
            "order_number": new.order.number,
            "po_number": new.order.po_number,
            "sku": sku.code,
            "description": notice.context["lines"][0]["description"],
            "quantity": 4,
            "outcome": "backordered",
            "expected_date": notice.context["lines"][0]["expected_date"],
            "expected_basis": f"ETA {run.eta:%b} {run.eta.day}",  # what the date rests on
        }
    ]
    assert_split(new)
    assert_counters()
    # the same count again is no shortage: nothing changes, nobody is told twice
    stock_sync(counts=[StockCountRequest(sku.code, 8)], user=StaffFactory())
    assert messages("stock_shortage").count() == 1


@pytest.mark.parametrize("reason", ["seasonal", "declined", "policy"])
def test_shortage_cancels_when_not_eligible(account, buyer, warehouse, reason):
    style = StyleFactory(
        replenishment=Replenishment.SEASONAL if reason == "seasonal" else Replenishment.COMMITTED
    )
    sku = SKUFactory(style=style)
    run_with(skus=[sku], warehouse=warehouse)
    policy = BackorderPolicy.NONE if reason == "policy" else BackorderPolicy.ALLOW
    line = backordered_line(
        account=account,
        buyer=buyer,
        sku=sku,
        run=None or sku.inbound_lines.get().run,
        quantity=5,
        on_hand=5,
        backorder_policy=policy,
    )
    if reason == "declined":
        account.accepts_backorders = False
        account.save()
    stock_sync(counts=[StockCountRequest(sku.code, 2)], user=StaffFactory())
    line.refresh_from_db()
    assert (line.allocated, line.backordered, line.cancelled) == (2, 0, 3)
    assert messages("stock_shortage").get().context["lines"][0]["outcome"] == "cancelled"
    assert InboundLine.objects.get(sku=sku).promised == 0
    assert_counters()


def test_stock_sync_bad_rows_are_named_and_nothing_changes(warehouse):
    sku = SKUFactory()
    StockLevel.objects.create(sku=sku, warehouse=warehouse, on_hand=10)
    with pytest.raises(BackorderInputError) as caught:
        stock_sync(
            counts=[
                StockCountRequest(sku.code, 4),
                StockCountRequest("NOPE", 1),
                StockCountRequest(sku.code, -1, "ZZZ"),
                StockCountRequest(sku.code, "ten"),
            ],
            user=StaffFactory(),
        )
    errors = caught.value.message_dict
    assert {"[1].sku", "[2].warehouse", "[2].on_hand", "[3].on_hand"} <= set(errors)
    assert StockLevel.objects.get(sku=sku).on_hand == 10


def test_reconcile_reports_and_repairs_counter_drift(account, buyer, warehouse):
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, quantity=50)
    backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=6, on_hand=4)
    level = StockLevel.objects.get(sku=sku)
    StockLevel.objects.filter(pk=level.pk).update(allocated=1)
    InboundLine.objects.filter(run=run).update(promised=9)
    dry = reconcile(repair=False)
    assert {d.kind for d in dry.drifts} == {"stock_allocated", "inbound_promised"}
    assert StockLevel.objects.get(pk=level.pk).allocated == 1  # dry run changed nothing
    report = reconcile(repair=True)
    assert all(d.repaired for d in report.drifts)
    assert_counters()
    assert reconcile().clean


def test_reconcile_command_dry_run(capsys, warehouse):
    sku = SKUFactory()
    StockLevel.objects.create(sku=sku, warehouse=warehouse, on_hand=5, allocated=2)
    call_command("reconcile", "--dry-run")
    out = capsys.readouterr().out
    assert "stock_allocated" in out
    assert "not repaired" in out
    assert StockLevel.objects.get(sku=sku).allocated == 2
    call_command("reconcile")
    assert StockLevel.objects.get(sku=sku).allocated == 0

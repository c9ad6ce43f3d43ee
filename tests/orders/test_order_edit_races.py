"""Order edits racing the warehouse, on PostgreSQL with real threads: whatever order the
database serialises them in, the ledger holds (splits, allocations, pegs, counters)."""

import pytest

from backorders.services import run_receive
from inventory.models import StockLevel
from orders.models import OrderLine
from orders.services import LineRequest, order_place
from orders.services.fulfilment import shipment_confirm
from orders.services.order_edits import ReduceRequest, order_edit
from portal.invariants import invariant_violations
from tests.backorders.helpers import (
    assert_counters,
    assert_split,
    backordered_line,
    race,
    run_with,
)
from tests.conftest import concurrent
from tests.factories import SKUFactory, StaffFactory
from tests.orders.conftest import make_fill_in, stocked_sku

pytestmark = [pytest.mark.django_db(transaction=True), concurrent]


def _ledger_holds():
    broken = {name: count for name, count in invariant_violations().items() if count}
    assert not broken, broken
    for line in OrderLine.objects.all():
        assert_split(line)
    assert_counters()


def test_an_edit_racing_a_shipment_leaves_the_ledger_consistent(account, buyer, warehouse):
    # given an order of 12 pairs allocated, and another style in stock
    make_fill_in(account)
    sku, other = stocked_sku(warehouse=warehouse), stocked_sku(warehouse=warehouse)
    order = order_place(account=account, user=buyer, lines=[LineRequest(sku.code, 12)]).order
    line = order.lines.get()
    # when the warehouse ships all 12 while the buyer takes 4 off and adds 6 of another
    outcome = race(
        {
            "ship": lambda: shipment_confirm(
                order=order,
                carrier="UPS",
                tracking="1ZRACE0001",
                lines=[(sku.code, 12)],
                user=None,
            ),
            "edit": lambda: order_edit(
                order=order,
                user=buyer,
                add=[LineRequest(other.code, 6)],
                reduce=[ReduceRequest(line.pk, 4)],
            ),
        }
    )
    # then exactly one went through: the other saw the order as it was left
    failed = {name for name, result in outcome.items() if isinstance(result, Exception)}
    assert len(failed) == 1, outcome
    line.refresh_from_db()
    if failed == {"edit"}:
        assert (line.shipped, line.cancelled) == (12, 0)
        assert not order.lines.filter(sku=other).exists()
    else:
        assert (line.shipped, line.allocated, line.cancelled) == (0, 8, 4)
        assert order.lines.get(sku=other).allocated == 6
    _ledger_holds()


def test_an_edit_racing_a_receipt_leaves_the_ledger_consistent(account, buyer, warehouse):
    # given two orders waiting for 10 pairs each of a run of 20
    make_fill_in(account)
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, quantity=20)
    mine = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=10)
    theirs = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=10)
    other = stocked_sku(warehouse=warehouse)
    # when the run arrives while the first order takes 4 off and adds another style
    outcome = race(
        {
            "receive": lambda: run_receive(run=run, user=StaffFactory()),
            "edit": lambda: order_edit(
                order=mine.order,
                user=buyer,
                add=[LineRequest(other.code, 6)],
                reduce=[ReduceRequest(mine.pk, 4)],
            ),
        }
    )
    errors = {name: result for name, result in outcome.items() if isinstance(result, Exception)}
    assert not errors, errors
    # then both went through: 6 + 10 pairs allocated, the other 4 back in stock
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.allocated, mine.backordered, mine.cancelled) == (6, 0, 4)
    assert (theirs.allocated, theirs.backordered) == (10, 0)
    level = StockLevel.objects.get(sku=sku, warehouse=warehouse)
    assert (level.on_hand, level.allocated) == (20, 16)
    _ledger_holds()

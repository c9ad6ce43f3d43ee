import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from orders.services import LineRequest, order_place
from portal.invariants import invariant_violations
from tests.factories import InboundLineFactory, OrderFactory, StockLevelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed_order(account, buyer, warehouse):
    in_stock = StockLevelFactory(warehouse=warehouse, on_hand=10).sku
    short = StockLevelFactory(warehouse=warehouse, on_hand=2).sku
    InboundLineFactory(sku=short, quantity=50, run__warehouse=warehouse)
    OrderFactory(account=account)  # not an opening order: the fill-in minimum applies
    return order_place(
        account=account,
        user=buyer,
        lines=[LineRequest(in_stock.code, 6), LineRequest(short.code, 8)],
    ).order


def test_a_consistent_database_passes(placed_order, capsys):
    assert set(invariant_violations().values()) == {0}
    call_command("audit_invariants")
    assert "All invariants hold." in capsys.readouterr().out


CORRUPTIONS = {
    "stock_allocated_differs_from_allocations": (
        "UPDATE inventory_stocklevel SET allocated = allocated + 1 WHERE allocated < on_hand"
    ),
    "line_backordered_differs_from_pegs": (
        "UPDATE orders_orderline SET backordered = backordered + 1, quantity = quantity + 1 "
        "WHERE backordered > 0"
    ),
    "inbound_promised_differs_from_pegs": (
        "UPDATE inventory_inboundline SET promised = promised + 1"
    ),
    "backorder_without_window": (
        "UPDATE orders_orderline SET window_end = NULL WHERE backordered > 0"
    ),
    "backorder_on_ineligible_sku": "UPDATE inventory_style SET replenishment = 'seasonal'",
    # pairs of the waiting SKU appear on the shelf without going to its backorder
    "ats_above_holdback_while_backorder_waits": (
        "UPDATE inventory_stocklevel SET on_hand = on_hand + 5"
    ),
    # a charge added to an order that nothing invoiced or open accounts for
    "order_total_differs_from_invoiced_plus_open": (
        "UPDATE orders_order SET total = total + 15 WHERE total > 0"
    ),
}


@pytest.mark.parametrize(("check", "corruption"), CORRUPTIONS.items())
def test_each_check_catches_its_corruption(placed_order, check, corruption):
    # given a database where one invariant was broken behind the services' back
    with connection.cursor() as cursor:
        cursor.execute(corruption)
    # when audited
    violations = invariant_violations()
    # then that check counts the broken rows and the command fails naming it
    assert violations[check] > 0
    with pytest.raises(CommandError, match=check):
        call_command("audit_invariants")


def test_a_younger_order_holding_pairs_while_an_older_one_waits_is_caught(
    placed_order, account, buyer
):
    # given a second order waiting for the SKU the first one holds two pairs of
    short = placed_order.lines.get(backordered__gt=0)
    later = order_place(account=account, user=buyer, lines=[LineRequest(short.sku.code, 6)])
    assert later.order.lines.get().backordered == 6
    assert invariant_violations()["younger_order_filled_while_older_waits"] == 0
    # when the first order is made younger than the waiting one behind the services' back
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orders_order SET placed_at = placed_at + interval '1 day' WHERE id = %s",
            [placed_order.pk],
        )
    # then the waiting order is counted as passed over
    assert invariant_violations()["younger_order_filled_while_older_waits"] == 1
    with pytest.raises(CommandError, match="younger_order_filled_while_older_waits"):
        call_command("audit_invariants")

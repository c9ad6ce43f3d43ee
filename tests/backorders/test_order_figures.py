"""Order figures stay true (DESIGN.md invariant 10): freight is quoted once, at
placement; a cancellation by the brand never adds a charge; an order's total is always
what was invoiced plus what is still open, whichever path changed it."""

import datetime as dt
from decimal import Decimal

import pytest

from backorders.services import (
    StockCountRequest,
    backorder_decide,
    backorder_sweep,
    decision_expire,
    eta_change,
    run_cancel,
    run_receive,
    stock_sync,
)
from orders.models import DecisionDefault, Order
from orders.services import CancelRequest, LineRequest, order_cancel, order_place
from orders.services.fulfilment import shipment_confirm
from tests.backorders.helpers import run_with, today
from tests.factories import SKUFactory, StockLevelFactory

pytestmark = pytest.mark.django_db


def assert_total_is_invoiced_plus_open(order):
    order = Order.objects.get(pk=order.pk)
    invoices = list(order.invoices.all())
    invoiced = sum((invoice.total for invoice in invoices), Decimal("0.00"))
    still_open = sum(
        (line.unit_price * (line.allocated + line.backordered) for line in order.lines.all()),
        Decimal("0.00"),
    )
    freight_to_bill = Decimal("0.00") if invoices else order.freight
    assert order.total == invoiced + still_open + freight_to_bill
    return order


@pytest.fixture
def shipped_and_waiting(account, buyer, warehouse, planner):
    """The demo's order: $331.50 shipped and invoiced without freight (the order was
    above the free-freight threshold), $180.00 still waiting for a run."""
    shipped = SKUFactory(price=Decimal("33.15"))
    StockLevelFactory(sku=shipped, warehouse=warehouse, on_hand=10)
    waiting = SKUFactory(price=Decimal("30.00"))
    StockLevelFactory(sku=waiting, warehouse=warehouse, on_hand=0)
    run = run_with(skus=[waiting], warehouse=warehouse, quantity=20, eta_days=14)
    order = order_place(
        account=account,
        user=buyer,
        lines=[LineRequest(shipped.code, 10), LineRequest(waiting.code, 6)],
    ).order
    assert (order.subtotal, order.freight) == (Decimal("511.50"), Decimal("0.00"))
    assert_total_is_invoiced_plus_open(order)
    shipment_confirm(
        order=order,
        carrier="UPS",
        tracking="1Z999AA10123456784",
        lines=[(shipped.code, 10)],
        user=None,
    )
    assert_total_is_invoiced_plus_open(order)
    return order, run, order.lines.get(sku=waiting)


def _run_cancelled(order, run, line, planner):
    run_cancel(run=run, reason="Factory closed", user=planner)


def _swept(order, run, line, planner):
    backorder_sweep(today=line.window_end + dt.timedelta(days=1))


def _decision_defaulted(order, run, line, planner):
    order.account.decision_default = DecisionDefault.CANCEL
    order.account.save(update_fields=["decision_default"])
    eta_change(run=run, new_eta=today() + dt.timedelta(days=90), reason="Late", user=planner)
    decision_expire(today=today() + dt.timedelta(days=30))


@pytest.mark.parametrize(
    "brand_cancels", [_run_cancelled, _swept, _decision_defaulted], ids=lambda f: f.__name__
)
def test_a_brand_cancellation_never_adds_freight(shipped_and_waiting, planner, brand_cancels):
    order, run, line = shipped_and_waiting
    # when the brand cancels what was still waiting
    brand_cancels(order, run, line, planner)
    # then the order owes what was invoiced: no freight appears
    order = assert_total_is_invoiced_plus_open(order)
    line.refresh_from_db()
    assert line.cancelled == 6
    assert (order.freight, order.total) == (Decimal("0.00"), Decimal("331.50"))


def test_the_retailers_own_cancellation_keeps_the_freight_quoted_at_placement(
    shipped_and_waiting, buyer
):
    order, run, line = shipped_and_waiting
    order_cancel(order=order, user=buyer, lines=[CancelRequest(line.pk)])
    order = assert_total_is_invoiced_plus_open(order)
    assert (order.freight, order.total) == (Decimal("0.00"), Decimal("331.50"))


def test_freight_quoted_at_placement_is_billed_once_and_dropped_if_nothing_ships(
    account, buyer, warehouse, planner
):
    # given an order below the threshold: $15.00 freight quoted
    sku = SKUFactory(price=Decimal("20.00"))
    StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=3)
    order = order_place(account=account, user=buyer, lines=[LineRequest(sku.code, 3)]).order
    assert order.freight == Decimal("15.00")
    assert_total_is_invoiced_plus_open(order)
    # when a shortage cancels every pair before anything ships
    stock_sync(counts=[StockCountRequest(sku.code, 0)], user=planner)
    # then nothing is owed
    order = assert_total_is_invoiced_plus_open(order)
    assert (order.freight, order.total) == (Decimal("0.00"), Decimal("0.00"))


def test_every_path_keeps_total_equal_to_invoiced_plus_open(account, buyer, warehouse, planner):
    """Placement, a receipt, a shipment, a decision and a partial cancellation in turn."""
    waiting = SKUFactory(price=Decimal("25.00"))
    StockLevelFactory(sku=waiting, warehouse=warehouse, on_hand=2)
    run = run_with(skus=[waiting], warehouse=warehouse, quantity=20, eta_days=14)
    order = order_place(account=account, user=buyer, lines=[LineRequest(waiting.code, 8)]).order
    assert_total_is_invoiced_plus_open(order)
    line = order.lines.get()
    eta_change(run=run, new_eta=today() + dt.timedelta(days=90), reason="Late", user=planner)
    assert_total_is_invoiced_plus_open(order)
    backorder_decide(line=line, action="keep", user=buyer)
    assert_total_is_invoiced_plus_open(order)
    shipment_confirm(
        order=order,
        carrier="UPS",
        tracking="1Z999AA10123456785",
        lines=[(waiting.code, 2)],
        user=None,
    )
    assert_total_is_invoiced_plus_open(order)
    order_cancel(order=order, user=buyer, lines=[CancelRequest(line.pk, 3)])
    assert_total_is_invoiced_plus_open(order)
    run_receive(run=run, user=planner)
    assert_total_is_invoiced_plus_open(order)

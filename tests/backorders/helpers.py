"""Building blocks for the backorder tests: an order placed through order_place with
part of it backordered against a run."""

import datetime as dt
import threading

from django.db import connection
from django.utils import timezone

from inventory.models import InboundLine, StockLevel
from notifications.models import Message
from orders.models import Order, OrderLine
from orders.services import LineRequest, order_place
from tests.factories import InboundLineFactory, InboundRunFactory, SKUFactory, StockLevelFactory


def today():
    return timezone.localdate()


def backordered_line(*, account, buyer, sku, run, quantity=10, on_hand=0, **place):
    """Place an order for `quantity` of `sku` with `on_hand` in stock: the rest waits on
    `run` (which must carry the SKU)."""
    StockLevel.objects.update_or_create(
        sku=sku, warehouse=run.warehouse, defaults={"on_hand": on_hand}
    )
    result = order_place(
        account=account,
        user=buyer,
        lines=[LineRequest(sku.code, quantity)],
        po_number=place.pop("po_number", "PO-1"),
        **place,
    )
    return OrderLine.objects.get(order=result.order, sku=sku)


def run_with(*, skus, warehouse, quantity=100, eta_days=14, **kwargs):
    run = InboundRunFactory(
        warehouse=warehouse, eta=today() + dt.timedelta(days=eta_days), **kwargs
    )
    for sku in skus:
        InboundLineFactory(run=run, sku=sku, quantity=quantity)
    return run


def sku_in_stock(*, warehouse, on_hand=100, **kwargs):
    sku = SKUFactory(**kwargs)
    StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=on_hand)
    return sku


def messages(kind, **filters):
    return Message.objects.filter(kind=kind, **filters)


def assert_split(line):
    line.refresh_from_db()
    assert line.quantity == line.allocated + line.backordered + line.shipped + line.cancelled
    pegged = sum(p.quantity for p in line.pegs.all())
    held = sum(a.quantity for a in line.allocations.all())
    assert pegged == line.backordered
    assert held == line.allocated


def assert_counters():
    for level in StockLevel.objects.all():
        held = sum(a.quantity for a in level.allocations.all())
        assert level.allocated == held, level
        assert 0 <= level.allocated <= level.on_hand
    for inbound in InboundLine.objects.all():
        assert inbound.promised == sum(p.quantity for p in inbound.pegs.all()), inbound


def order_of(line):
    return Order.objects.get(pk=line.order_id)


def race(jobs):
    """Start every job at once (a barrier), each in its own thread and connection;
    returns {name: result or the exception it raised}."""
    barrier = threading.Barrier(len(jobs))
    outcome = {}

    def run(name, job):
        try:
            barrier.wait(timeout=30)
            outcome[name] = job()
        except Exception as exc:  # noqa: BLE001 - asserted by the caller
            outcome[name] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in jobs.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert set(outcome) == set(jobs), outcome
    return outcome

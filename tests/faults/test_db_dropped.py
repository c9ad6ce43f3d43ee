"""The database connection of a placement is killed (pg_terminate_backend) in the middle
of its transaction, after stock was taken: the call fails with a database error, no
part of the order exists, stock is as before, every invariant holds, and the next
order goes through."""

import threading

import pytest
from django.db import DatabaseError, connection, connections
from django.db.models import Sum

from inventory.models import StockLevel
from notifications.models import Message
from orders.ledger import counters
from orders.models import Allocation, Order, OrderLine
from orders.services import LineRequest, order_place
from portal.invariants import invariant_violations

pytestmark = pytest.mark.django_db(transaction=True)


def _allocated():
    return StockLevel.objects.aggregate(total=Sum("allocated"))["total"]


def test_a_connection_killed_mid_placement_leaves_nothing_behind(shop, account, buyer, monkeypatch):
    # given: order_place pauses inside its transaction, just after taking stock
    orders_before, allocated_before = Order.objects.count(), _allocated()
    paused, resume = threading.Event(), threading.Event()
    backend = {}
    real_allocate = counters.stock_allocated

    def allocate_then_pause(**kwargs):
        taken = real_allocate(**kwargs)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend["pid"] = cursor.fetchone()[0]
        paused.set()
        resume.wait(timeout=30)
        return taken

    monkeypatch.setattr(counters, "stock_allocated", allocate_then_pause)
    outcome = {}

    def place():
        try:
            order_place(account=account, user=buyer, lines=[LineRequest(shop.code, 10)])
            outcome["result"] = "placed"
        except Exception as exc:  # the error is the point: recorded and asserted below
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=place)
    thread.start()
    assert paused.wait(timeout=30)

    # when: another connection terminates that backend, and the placement carries on
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend["pid"]])
        assert cursor.fetchone()[0] is True
    resume.set()
    thread.join(timeout=30)
    assert not thread.is_alive()

    # then: it failed cleanly, with a database error, and left nothing
    assert "result" not in outcome
    assert isinstance(outcome["error"], DatabaseError), repr(outcome["error"])
    assert Order.objects.count() == orders_before
    assert not OrderLine.objects.filter(order__account=account, sku=shop).exists()
    assert not Allocation.objects.exists()
    assert _allocated() == allocated_before
    assert not Message.objects.filter(kind="order_confirmation").exists()
    assert set(invariant_violations().values()) == {0}

    # and the next order, on a fresh connection, goes through
    monkeypatch.setattr(counters, "stock_allocated", real_allocate)
    order = order_place(account=account, user=buyer, lines=[LineRequest(shop.code, 10)]).order
    assert order.lines.get().allocated == 10
    assert set(invariant_violations().values()) == {0}
    print(f"\nFAULT db-dropped: {type(outcome['error']).__name__}; nothing written; audit clean")

"""Placement under real concurrency on PostgreSQL: threads, each with its own connection."""

import threading

import pytest
from django.db import connection
from django.db.models import Sum

from inventory.models import InboundLine, StockLevel
from orders.exceptions import IdempotencyKeyInFlight
from orders.models import Allocation, BackorderPeg, Order, OrderLine
from orders.services import LineRequest, order_cancel, order_place
from tests.factories import AccountFactory, MembershipFactory, ShipToFactory, UserFactory
from tests.orders.conftest import inbound_for, make_fill_in, stocked_sku

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def buyers(count):
    result = []
    for _ in range(count):
        account = AccountFactory()
        ShipToFactory(account=account)
        make_fill_in(account)
        result.append((account, MembershipFactory(account=account, user=UserFactory()).user))
    return result


def run_together(jobs):
    """Start every job at the same moment; return (results, errors) in job order."""
    barrier = threading.Barrier(len(jobs))
    results, errors = [None] * len(jobs), [None] * len(jobs)

    def worker(index, job):
        try:
            barrier.wait()
            results[index] = job()
        except Exception as exc:  # noqa: BLE001 - every failure is reported by the test
            errors[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def place_job(account, user, lines, **kwargs):
    def job():
        return order_place(
            account=account,
            user=user,
            lines=[LineRequest(sku.code, qty) for sku, qty in lines],
            **kwargs,
        )

    return job


def test_twenty_clients_racing_for_the_last_units_never_oversell(terms, warehouse):
    # given 30 pairs in stock and 40 more coming, and 20 stores each wanting 6
    sku = stocked_sku(warehouse=warehouse, on_hand=30)
    inbound = inbound_for(sku=sku, warehouse=warehouse, quantity=40)
    clients = buyers(20)
    # when they all order at once
    results, errors = run_together(
        [place_job(account, user, [(sku, 6)]) for account, user in clients]
    )
    # then exactly 30 are allocated, 40 backordered against the run, and the rest cancelled
    assert errors == [None] * 20
    lines = OrderLine.objects.filter(sku=sku)
    totals = lines.aggregate(
        allocated=Sum("allocated"), backordered=Sum("backordered"), cancelled=Sum("cancelled")
    )
    assert totals == {"allocated": 30, "backordered": 40, "cancelled": 50}
    level = StockLevel.objects.get(sku=sku)
    assert level.allocated == 30
    assert level.allocated <= level.on_hand
    assert Allocation.objects.aggregate(q=Sum("quantity"))["q"] == 30
    inbound.refresh_from_db()
    assert inbound.promised == 40
    assert BackorderPeg.objects.aggregate(q=Sum("quantity"))["q"] == 40
    assert {result.order.pk for result in results} == set(
        Order.objects.filter(lines__sku=sku).values_list("pk", flat=True)
    )


def test_opposite_line_orders_never_deadlock(terms, warehouse):
    # given two SKUs in stock, and orders listing them in opposite orders
    a = stocked_sku(warehouse=warehouse, on_hand=1000)
    b = stocked_sku(warehouse=warehouse, on_hand=1000)
    clients = buyers(2)
    for _ in range(15):
        (acc1, user1), (acc2, user2) = clients
        jobs = [
            place_job(acc1, user1, [(a, 6), (b, 6)]),
            place_job(acc2, user2, [(b, 6), (a, 6)]),
        ] * 3
        _, errors = run_together(jobs)
        assert errors == [None] * len(jobs)
    assert StockLevel.objects.get(sku=a).allocated == 15 * 6 * 6
    assert StockLevel.objects.get(sku=b).allocated == 15 * 6 * 6


def test_cancels_and_placements_over_the_same_skus_never_deadlock(terms, warehouse):
    a = stocked_sku(warehouse=warehouse, on_hand=2000)
    b = stocked_sku(warehouse=warehouse, on_hand=2000)
    (account, user), (account2, user2) = buyers(2)
    for _ in range(10):
        # orders whose lines are B then A: a cancel releases them in that order
        to_cancel = [
            order_place(
                account=account, user=user, lines=[LineRequest(b.code, 6), LineRequest(a.code, 6)]
            ).order
            for _ in range(3)
        ]
        jobs = [
            (lambda order=order: order_cancel(order=order, user=user)) for order in to_cancel
        ] + [place_job(account2, user2, [(a, 6), (b, 6)]) for _ in range(3)]
        _, errors = run_together(jobs)
        assert errors == [None] * len(jobs)
    assert StockLevel.objects.get(sku=a).allocated == 10 * 3 * 6
    assert StockLevel.objects.get(sku=b).allocated == 10 * 3 * 6


def test_two_submits_with_one_key_create_one_order(terms, warehouse):
    sku = stocked_sku(warehouse=warehouse, on_hand=100)
    ((account, user),) = buyers(1)
    for attempt in range(10):
        key = f"double-{attempt}"
        results, errors = run_together(
            [place_job(account, user, [(sku, 6)], idempotency_key=key) for _ in range(4)]
        )
        assert Order.objects.filter(account=account, idempotency_key=key).count() == 1
        order = Order.objects.get(account=account, idempotency_key=key)
        for result, error in zip(results, errors, strict=True):
            if error is not None:
                assert isinstance(error, IdempotencyKeyInFlight)
            else:
                assert result.order.pk == order.pk
        assert sum(1 for result in results if result is not None and result.created) == 1
    assert StockLevel.objects.get(sku=sku).allocated == 60
    assert InboundLine.objects.count() == 0

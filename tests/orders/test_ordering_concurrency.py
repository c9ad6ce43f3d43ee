"""Placement under real concurrency on PostgreSQL: threads, each with its own connection."""

import threading

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from inventory.compiled import statements_unprepared
from inventory.models import InboundLine, StockLevel
from notifications.models import Message
from orders.exceptions import IdempotencyKeyInFlight, OrderInputError
from orders.ledger import counters
from orders.models import Allocation, BackorderPeg, Order, OrderLine
from orders.services import LineRequest, order_cancel, order_place
from portal.invariants import invariant_violations
from tests.conftest import concurrent
from tests.factories import AccountFactory, MembershipFactory, ShipToFactory, UserFactory
from tests.orders.conftest import inbound_for, make_fill_in, stocked_sku

pytestmark = [pytest.mark.django_db(transaction=True), concurrent]


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
    # then exactly 30 are allocated and 36 backordered against the run (11 whole orders);
    # the other 9 would have fewer pairs than the fill-in minimum and are refused
    placed = [result for result in results if result is not None]
    refused = [error for error in errors if error is not None]
    assert (len(placed), len(refused)) == (11, 9)
    assert all(isinstance(error, OrderInputError) for error in refused)
    lines = OrderLine.objects.filter(sku=sku)
    totals = lines.aggregate(
        allocated=Sum("allocated"), backordered=Sum("backordered"), cancelled=Sum("cancelled")
    )
    assert totals == {"allocated": 30, "backordered": 36, "cancelled": 0}
    level = StockLevel.objects.get(sku=sku)
    assert level.allocated == 30
    assert level.allocated <= level.on_hand
    assert Allocation.objects.aggregate(q=Sum("quantity"))["q"] == 30
    inbound.refresh_from_db()
    assert inbound.promised == 36
    assert BackorderPeg.objects.aggregate(q=Sum("quantity"))["q"] == 36
    assert {result.order.pk for result in placed} == set(
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


def test_stock_sold_between_the_read_and_the_lock_is_planned_again_under_the_lock(
    terms, warehouse, monkeypatch
):
    # given 10 pairs in stock and 20 coming; a store orders 6, and its placement stops
    # after reading the stock (10, enough), before the round trip that writes the order
    # and locks and allocates the level
    sku = stocked_sku(warehouse=warehouse, on_hand=10)
    inbound = inbound_for(sku=sku, warehouse=warehouse, quantity=20)
    (slow_account, slow_user), (fast_account, fast_user) = buyers(2)
    real_allocate = counters.stock_allocate_statement
    paused, resume, calls = threading.Event(), threading.Event(), []

    def allocate(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            paused.set()
            assert resume.wait(timeout=30)
        return real_allocate(**kwargs)

    monkeypatch.setattr(counters, "stock_allocate_statement", allocate)
    outcome = {}

    def slow():
        try:
            outcome["result"] = place_job(slow_account, slow_user, [(sku, 6)])()
        except Exception as exc:  # noqa: BLE001 - asserted below
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=slow)
    thread.start()
    assert paused.wait(timeout=30)
    # when another store takes 6 of the 10 meanwhile
    fast = place_job(fast_account, fast_user, [(sku, 6)])().order
    resume.set()
    thread.join(timeout=30)
    # then the first placement's allocation finds only 4 left: nothing of its first try is
    # kept, and it is placed again with the stock locked first: 4 allocated, 2 backordered
    assert "error" not in outcome, outcome
    slow_order = outcome["result"].order
    assert len(calls) == 3
    line = slow_order.lines.get()
    assert (line.allocated, line.backordered, line.cancelled) == (4, 2, 0)
    assert fast.lines.get().allocated == 6
    assert Order.objects.filter(account=slow_account).count() == 2  # the fill-in and this one
    assert StockLevel.objects.get(sku=sku).allocated == 10
    inbound.refresh_from_db()
    assert inbound.promised == 2
    confirmed = {
        int(key.split(":")[1])
        for key in Message.objects.filter(kind="order_confirmation").values_list("key", flat=True)
    }
    assert confirmed == {slow_order.pk, fast.pk}
    assert set(invariant_violations().values()) == {0}


def test_stock_levels_are_locked_last_and_held_only_to_the_commit(terms, warehouse):
    # given two SKUs in stock
    skus = [stocked_sku(warehouse=warehouse, on_hand=100) for _ in range(2)]
    ((account, user),) = buyers(1)
    # when an order is placed (its statements sent as they are, not as prepared ones run
    # by name, so that they can be read)
    with statements_unprepared(), CaptureQueriesContext(connection) as captured:
        place_job(account, user, [(sku, 6) for sku in skus], idempotency_key="late")()
    # then every write comes before the stock levels are locked; they are locked (in pk
    # order) and allocated by one statement, the last before the commit: the last of the
    # round trip that writes the order, its lines, their allocations and its confirmation
    statements = [query["sql"] for query in captured.captured_queries]
    lock = next(
        index
        for index, sql in enumerate(statements)
        if "inventory_stocklevel" in sql and "FOR UPDATE" in sql
    )
    *written, last = statements[lock].split("; ")
    assert not any("inventory_stocklevel" in sql for sql in written)
    assert any(sql.startswith('INSERT INTO "orders_order"') for sql in written)
    assert any(sql.startswith('INSERT INTO "orders_allocation"') for sql in written)
    assert any(sql.startswith('INSERT INTO "notifications_message"') for sql in written)
    assert "ORDER BY id FOR UPDATE" in last
    assert "UPDATE inventory_stocklevel AS target" in last
    assert statements[lock + 1 :] == ["COMMIT"]


def test_rows_written_before_the_stock_lock_check_their_references_at_commit():
    # placement writes allocations and pegs before it locks the stock levels and inbound
    # lines they reference: the foreign key checks (which share-lock the referenced rows)
    # must wait for the commit, or two placements could each wait for the other's lock
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, condeferrable, condeferred FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid IN "
            "('inventory_stocklevel'::regclass, 'inventory_inboundline'::regclass) "
            "AND conrelid IN ('orders_allocation'::regclass, 'orders_backorderpeg'::regclass)"
        )
        rows = sorted(cursor.fetchall())
    assert rows == [("orders_allocation", True, True), ("orders_backorderpeg", True, True)]


def test_a_placement_runs_its_fixed_statements_by_name_whatever_its_line_count(terms, warehouse):
    # given an order of one line placed on this connection
    skus = [stocked_sku(warehouse=warehouse, on_hand=100) for _ in range(3)]
    ((account, user),) = buyers(1)
    place_job(account, user, [(skus[0], 6)], idempotency_key="first")()
    # when an order of two lines is placed after it
    with CaptureQueriesContext(connection) as captured:
        place_job(account, user, [(skus[1], 4), (skus[2], 2)], idempotency_key="second")()
    # then, inside its transaction, everything but the new rows is run by name, not sent
    # to be parsed and planned again: the key's lock with the new pks, the credit
    # position, and the stock update, whose text is the same for any number of levels
    sent = [part for query in captured.captured_queries for part in query["sql"].split("; ")]
    transaction = sent[sent.index("BEGIN") + 1 : sent.index("COMMIT")]
    by_name = [sql for sql in transaction if not sql.startswith("INSERT INTO ")]
    assert len(by_name) == 3
    assert all(sql.startswith("EXECUTE compiled_") for sql in by_name)
    # and the stock moved as the statement says
    levels = StockLevel.objects.filter(sku__in=skus).order_by("sku_id")
    assert [level.allocated for level in levels] == [6, 4, 2]

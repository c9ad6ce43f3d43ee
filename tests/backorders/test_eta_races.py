"""An ETA change racing work that pegs lines to the run (a placement, a shortage, a
cancelled run's lines moving) on PostgreSQL with real threads: the change waits for it
and reaches its lines, so no line keeps a date the run no longer has."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection

from backorders.services import StockCountRequest, eta_change, run_cancel, run_receive, stock_sync
from notifications.models import Message
from orders.ledger import counters
from orders.models import OrderLine
from orders.selectors import line_expected_dates
from orders.services import LineRequest, order_place
from tests.backorders.helpers import backordered_line, run_with
from tests.conftest import concurrent
from tests.factories import SKUFactory, StaffFactory

pytestmark = [pytest.mark.django_db(transaction=True), concurrent]


def _in_thread(outcome, name, job):
    def run():
        try:
            outcome[name] = job()
        except Exception as exc:  # noqa: BLE001 - asserted by the caller
            outcome[f"{name}_error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _lock_waiters(wait_event):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND wait_event = ANY(%s)",
            [list(wait_event)],
        )
        return cursor.fetchone()[0]


def _eta_change_during(monkeypatch, *, work, paused_in, run, waits_on=("advisory",)):
    """Run `work` in a thread, stop it in orders.ledger.counters.`paused_in` (after it planned
    and wrote its pegs' lines, before it commits), move `run` a week later from another
    thread meanwhile (it waits on `waits_on`: the work's ETA lock, or the rows the work
    holds), then let the work finish. Returns {"work": .., "changed": ..}."""
    real = getattr(counters, paused_in)
    paused, resume = threading.Event(), threading.Event()

    def pausing(**kwargs):
        if not paused.is_set():
            paused.set()
            assert resume.wait(timeout=30)
        return real(**kwargs)

    monkeypatch.setattr(counters, paused_in, pausing)
    outcome = {}
    working = _in_thread(outcome, "work", work)
    assert paused.wait(timeout=30)
    new_eta = run.eta + dt.timedelta(days=7)
    changing = _in_thread(
        outcome,
        "changed",
        lambda: eta_change(run=run, new_eta=new_eta, reason="Factory delay", user=None),
    )
    # The change waits for the work; give it the time it would need to finish without.
    deadline = time.monotonic() + 5
    while _lock_waiters(waits_on) == 0 and changing.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    resume.set()
    working.join(timeout=30)
    changing.join(timeout=30)
    assert set(outcome) == {"work", "changed"}, outcome
    return outcome


def _assert_told_the_run_date(line, outcome, buyer):
    line.refresh_from_db()
    assert outcome["changed"].moved == [line.pk]
    assert line.communicated_date == line_expected_dates(lines=[line])[line.pk]
    told = Message.objects.get(kind="eta_moved", recipient=buyer, key__startswith="eta:")
    assert [row["order_number"] for row in told.context["lines"]] == [line.order.number]


def test_a_line_placed_during_an_eta_change_gets_the_new_date(
    account, buyer, warehouse, monkeypatch
):
    # given nothing in stock and a run due in 14 days
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse)
    # when a store backorders 6 while the planner moves the run a week later
    outcome = _eta_change_during(
        monkeypatch,
        work=lambda: order_place(account=account, user=buyer, lines=[LineRequest(sku.code, 6)]),
        paused_in="inbound_promise_many",
        run=run,
    )
    # then the new line follows the run and the store is told
    line = outcome["work"].order.lines.get()
    assert line.backordered == 6
    _assert_told_the_run_date(line, outcome, buyer)


def test_a_line_moved_from_a_cancelled_run_during_an_eta_change_gets_the_new_date(
    account, buyer, warehouse, monkeypatch
):
    # given a line waiting on a run, and a later run with room for it
    sku = SKUFactory()
    cancelled = run_with(skus=[sku], warehouse=warehouse, eta_days=10)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=cancelled, quantity=4)
    later = run_with(skus=[sku], warehouse=warehouse, eta_days=20, quantity=50)
    # when the first run is cancelled (the line moves to the later one) while the later
    # one is moved a week
    outcome = _eta_change_during(
        monkeypatch,
        work=lambda: run_cancel(run=cancelled, reason="Factory closed", user=StaffFactory()),
        paused_in="inbound_promise_many",
        run=later,
    )
    # then the moved line follows the later run's new date and the store is told of
    # each event: the move to the later run, then that run's new ETA
    assert outcome["work"].repegged == [line.pk]
    assert line.pegs.get().inbound_line.run_id == later.pk
    _assert_told_the_run_date(line, outcome, buyer)
    assert Message.objects.filter(
        kind="eta_moved", recipient=buyer, key__startswith=f"run-cancelled-moved:{cancelled.pk}:"
    ).exists()


def test_a_line_backordered_by_a_shortage_during_an_eta_change_gets_the_new_date(
    account, buyer, warehouse, monkeypatch
):
    # given a line allocated from stock, and a run that can take it
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=6, on_hand=6)
    assert line.allocated == 6
    # when the warehouse counts none (the line goes to backorder on the run) while the
    # run is moved a week
    outcome = _eta_change_during(
        monkeypatch,
        work=lambda: stock_sync(counts=[StockCountRequest(sku.code, 0)], user=StaffFactory()),
        paused_in="inbound_promise_many",
        run=run,
    )
    # then the line follows the run's new date and the store is told
    line = OrderLine.objects.get(pk=line.pk)
    assert line.backordered == 6
    _assert_told_the_run_date(line, outcome, buyer)


def test_a_line_a_receipt_moves_onto_the_run_during_an_eta_change_gets_the_new_date(
    account, buyer, warehouse, monkeypatch
):
    # given an older line waiting on a full run due in 20 days, and a younger one on a
    # run due in 10 days: the change's line lock reaches only the older line
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=20, quantity=4)
    older = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=4)
    sooner = run_with(skus=[sku], warehouse=warehouse, eta_days=10, quantity=4)
    younger = backordered_line(account=account, buyer=buyer, sku=sku, run=sooner, quantity=4)
    assert younger.pegs.get().inbound_line.run_id == sooner.pk
    # when the sooner run arrives (its pairs fill the older line, whose room on the run
    # takes the younger line) while the run is moved a week, waiting on the receipt's rows
    outcome = _eta_change_during(
        monkeypatch,
        work=lambda: run_receive(run=sooner, user=StaffFactory()),
        paused_in="inbound_receive_many",
        run=run,
        waits_on=("transactionid", "tuple"),
    )
    # then the line the receipt moved onto the run follows the run's new date and is told
    assert OrderLine.objects.get(pk=older.pk).allocated == 4
    assert younger.pegs.get().inbound_line.run_id == run.pk
    _assert_told_the_run_date(younger, outcome, buyer)

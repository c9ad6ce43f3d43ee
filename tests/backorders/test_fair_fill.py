"""Fair fill (DESIGN.md invariant 9): whenever pairs come free in a warehouse they go to
the waiting backorders of their SKU, oldest order first, whichever run those were pegged
to; what still waits moves to the earliest run with room; only then is anything ATS.
And slips re-peg first: a line moves to an earlier run with room before anyone is told
or asked."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from backorders.models import DecisionRequest
from backorders.services import (
    ReceiveRequest,
    StockCountRequest,
    eta_change,
    run_cancel,
    run_receive,
    stock_sync,
)
from inventory.models import StockLevel
from orders import ledger
from orders.models import OrderLine
from orders.services import CancelRequest, LineRequest, order_cancel, order_place
from portal.invariants import invariant_violations
from tests.backorders.helpers import (
    assert_counters,
    assert_split,
    backordered_line,
    messages,
    run_with,
    today,
)
from tests.factories import SKUFactory

pytestmark = pytest.mark.django_db

FAIRNESS = ("ats_above_holdback_while_backorder_waits", "younger_order_filled_while_older_waits")


def _fair():
    violations = invariant_violations()
    return {name: violations[name] for name in FAIRNESS}


def _runs(line):
    return {peg.inbound_line.run.reference: peg.quantity for peg in line.pegs.all()}


def _ats(sku, warehouse):
    return StockLevel.objects.with_ats().get(sku=sku, warehouse=warehouse).ats_now


@pytest.fixture
def sku(db):
    return SKUFactory()


@pytest.fixture
def older_on_late_run_younger_on_early_run(account, buyer, warehouse, sku, planner):
    """The demo's SO-100514: an older order pegged to a late run (the only one when it
    was placed), a younger one pegged to an earlier run opened since."""
    late = run_with(skus=[sku], warehouse=warehouse, quantity=50, eta_days=30)
    older = backordered_line(account=account, buyer=buyer, sku=sku, run=late, quantity=6)
    early = run_with(skus=[sku], warehouse=warehouse, quantity=10, eta_days=10)
    younger = backordered_line(account=account, buyer=buyer, sku=sku, run=early, quantity=10)
    assert _runs(older) == {late.reference: 6}
    assert _runs(younger) == {early.reference: 10}
    return older, younger, late, early


def test_a_run_received_first_fills_the_oldest_backorder_whichever_run_it_waited_for(
    older_on_late_run_younger_on_early_run, planner, warehouse, sku
):
    older, younger, late, early = older_on_late_run_younger_on_early_run
    # when the early run arrives, whole
    run_receive(run=early, user=planner)
    # then the older order is filled first, the younger gets the rest, and the younger's
    # remaining pairs wait on the late run in the capacity the older one gave up
    older.refresh_from_db()
    younger.refresh_from_db()
    assert (older.allocated, older.backordered) == (6, 0)
    assert (younger.allocated, younger.backordered) == (4, 6)
    assert _runs(younger) == {late.reference: 6}
    assert _ats(sku, warehouse) == 0
    for line in (older, younger):
        assert_split(line)
    assert_counters()
    assert _fair() == dict.fromkeys(FAIRNESS, 0)
    # and the older order's store is told its pairs ship now
    filled = messages("backorder_filled").first()
    assert filled.context["run_reference"] == early.reference
    assert [row["quantity"] for row in filled.context["lines"]] == [6, 4]


def test_a_partial_receipt_goes_to_the_oldest_and_the_rest_moves_to_the_earliest_run(
    older_on_late_run_younger_on_early_run, planner, warehouse, sku
):
    older, younger, late, early = older_on_late_run_younger_on_early_run
    # when 4 pairs of the early run arrive
    run_receive(run=early, user=planner, lines=[ReceiveRequest(sku.code, 4)])
    # then they all go to the older order, whose last 2 pairs wait for the early run
    # too; the younger order keeps what is left of the early run and waits for the
    # late one for the rest
    older.refresh_from_db()
    younger.refresh_from_db()
    assert (older.allocated, older.backordered) == (4, 2)
    assert _runs(older) == {early.reference: 2}
    assert (younger.allocated, younger.backordered) == (0, 10)
    assert _runs(younger) == {early.reference: 4, late.reference: 6}
    assert _ats(sku, warehouse) == 0
    assert_counters()
    assert _fair() == dict.fromkeys(FAIRNESS, 0)


def test_a_stock_count_upwards_fills_waiting_backorders_before_anything_is_ats(
    account, buyer, warehouse, sku, planner
):
    run = run_with(skus=[sku], warehouse=warehouse, quantity=50, eta_days=20)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=6)
    # when the warehouse counts 10 pairs
    stock_sync(counts=[StockCountRequest(sku.code, 10)], user=planner)
    # then the backorder takes 6 and releases its run's promise; 4 are ATS
    line.refresh_from_db()
    assert (line.allocated, line.backordered) == (6, 0)
    assert line.pegs.count() == 0
    assert _ats(sku, warehouse) == 4
    assert_counters()
    assert messages("backorder_filled").count() == 1


def test_a_shortage_reversed_fills_the_line_it_moved_to_backorder(
    account, buyer, warehouse, sku, planner
):
    run = run_with(skus=[sku], warehouse=warehouse, quantity=50, eta_days=20)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=6, on_hand=6)
    stock_sync(counts=[StockCountRequest(sku.code, 0)], user=planner)
    line.refresh_from_db()
    assert (line.allocated, line.backordered) == (0, 6)
    # when the count is corrected back up
    stock_sync(counts=[StockCountRequest(sku.code, 6)], user=planner)
    line.refresh_from_db()
    assert (line.allocated, line.backordered) == (6, 0)
    assert _ats(sku, warehouse) == 0
    assert_counters()


def test_a_cancellation_gives_its_pairs_to_the_waiting_backorder_first(
    account, buyer, warehouse, sku
):
    # given one order holding the last 5 pairs and a later one waiting for 3
    run = run_with(skus=[sku], warehouse=warehouse, quantity=50, eta_days=20)
    holder = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=5, on_hand=5)
    placed = order_place(account=account, user=buyer, lines=[LineRequest(sku.code, 3)])
    waiting = placed.order.lines.get()
    assert (holder.allocated, waiting.backordered) == (5, 3)
    # when the first order is cancelled
    order_cancel(order=holder.order, user=buyer, lines=[CancelRequest(holder.pk)])
    # then the waiting one is filled and only the rest is ATS
    waiting.refresh_from_db()
    assert (waiting.allocated, waiting.backordered) == (3, 0)
    assert _ats(sku, warehouse) == 2
    assert_counters()
    assert messages("backorder_filled").count() == 1


def test_a_slip_moves_lines_to_an_earlier_run_with_room_before_asking_anyone(
    account, buyer, warehouse, sku, planner
):
    # given a line on a run due in 10 days and a run due in 25 days with room
    soon = run_with(skus=[sku], warehouse=warehouse, quantity=6, eta_days=10)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=soon, quantity=6)
    later = run_with(skus=[sku], warehouse=warehouse, quantity=20, eta_days=25)
    assert line.window_end < today() + dt.timedelta(days=80)
    # when the first run slips far past the line's window
    eta_change(run=soon, new_eta=today() + dt.timedelta(days=80), reason="Factory", user=planner)
    # then the line waits on the later run, inside its window, and nobody is asked
    line.refresh_from_db()
    assert _runs(line) == {later.reference: 6}
    assert not DecisionRequest.objects.filter(line=line).exists()
    assert_counters()


@pytest.mark.parametrize("room_later", [False, True], ids=["no room", "room on a later run"])
def test_a_slip_where_no_line_can_move_moves_no_peg_and_tells_every_line(
    account, buyer, warehouse, sku, planner, room_later
):
    # given a run due in 5 days and one due in 10 days, each promised in full, and
    # (second case) a run due in 40 days with room, later than the slipped ETA
    sooner = run_with(skus=[sku], warehouse=warehouse, quantity=3, eta_days=5)
    first_in = backordered_line(account=account, buyer=buyer, sku=sku, run=sooner, quantity=3)
    soon = run_with(skus=[sku], warehouse=warehouse, quantity=10, eta_days=10)
    older = backordered_line(account=account, buyer=buyer, sku=sku, run=soon, quantity=6)
    younger = backordered_line(account=account, buyer=buyer, sku=sku, run=soon, quantity=4)
    if room_later:
        run_with(skus=[sku], warehouse=warehouse, quantity=10, eta_days=40)
    pegs_before = {line.pk: _runs(line) for line in (first_in, older, younger)}
    assert pegs_before[older.pk] == {soon.reference: 6}
    # when the run due in 10 days slips a week
    with CaptureQueriesContext(connection) as captured:
        result = eta_change(
            run=soon, new_eta=today() + dt.timedelta(days=17), reason="Factory", user=planner
        )
    # then every peg stays where it was and both lines on the run hear their new date
    assert {line.pk: _runs(line) for line in (first_in, older, younger)} == pegs_before
    assert sorted(result.moved) == sorted([older.pk, younger.pk])
    assert len(messages("eta_moved").get().context["lines"]) == 2
    assert_counters()
    # and with no room on any run of the SKU the change locks no inbound line (it writes
    # none); with room somewhere it locks them to weigh the moves
    inbound_locked = [
        query["sql"]
        for query in captured.captured_queries
        if 'FOR UPDATE OF "inventory_inboundline"' in query["sql"]
    ]
    if connection.vendor == "postgresql":
        assert bool(inbound_locked) == room_later


def test_an_eta_moving_earlier_brings_lines_of_later_runs_onto_it_and_tells_them(
    account, buyer, warehouse, sku, planner
):
    # given a line waiting on a run due in 30 days, and a run due in 40 days with room
    due = run_with(skus=[sku], warehouse=warehouse, quantity=6, eta_days=30)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=due, quantity=6)
    roomy = run_with(skus=[sku], warehouse=warehouse, quantity=20, eta_days=40)
    # when the roomy run is brought forward to 12 days
    eta_change(run=roomy, new_eta=today() + dt.timedelta(days=12), reason="Early", user=planner)
    # then the line moves onto it and its store hears the good news
    line.refresh_from_db()
    assert _runs(line) == {roomy.reference: 6}
    told = messages("eta_moved").get()
    assert [row["order_number"] for row in told.context["lines"]] == [line.order.number]
    assert told.context["lines"][0]["new_date"] < told.context["lines"][0]["old_date"]
    assert_counters()


def test_an_eta_change_locks_the_lines_it_can_move_and_not_the_others(
    account, buyer, warehouse, sku, planner
):
    # given a line on the run, a line on a run due sooner, and a line on a run due in
    # 40 days while a run due in 30 days has room (a move the re-peg would make)
    run = run_with(skus=[sku], warehouse=warehouse, quantity=4, eta_days=20)
    on_run = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=4)
    soon = run_with(skus=[sku], warehouse=warehouse, quantity=4, eta_days=5)
    early = backordered_line(account=account, buyer=buyer, sku=sku, run=soon, quantity=4)
    late_run = run_with(skus=[sku], warehouse=warehouse, quantity=4, eta_days=40)
    late = backordered_line(account=account, buyer=buyer, sku=sku, run=late_run, quantity=4)
    roomy = run_with(skus=[sku], warehouse=warehouse, quantity=10, eta_days=30)
    new_eta = today() + dt.timedelta(days=27)
    # then the change locks the run's line and the line it can move earlier, not the
    # one on the sooner run; a cancelled run reaches only its own line
    with transaction.atomic():
        assert {line.pk for line in ledger.repeg_lines_lock(run_id=run.pk, eta=new_eta)} == {
            on_run.pk,
            late.pk,
        }
        assert [line.pk for line in ledger.repeg_lines_lock(run_id=run.pk, eta=None)] == [on_run.pk]
    # and the change makes that move
    eta_change(run=run, new_eta=new_eta, reason="Factory", user=planner)
    assert _runs(late) == {roomy.reference: 4}
    assert _runs(early) == {soon.reference: 4}
    assert_counters()


def test_a_cancelled_runs_lines_move_whole_to_another_run_or_are_cancelled(
    account, buyer, warehouse, sku, planner
):
    doomed = run_with(skus=[sku], warehouse=warehouse, quantity=20, eta_days=10)
    first = backordered_line(account=account, buyer=buyer, sku=sku, run=doomed, quantity=6)
    second = backordered_line(account=account, buyer=buyer, sku=sku, run=doomed, quantity=6)
    other = run_with(skus=[sku], warehouse=warehouse, quantity=8, eta_days=20)
    result = run_cancel(run=doomed, reason="Factory closed", user=planner)
    # the oldest line moves whole; the next cannot fit whole and is cancelled
    assert result.repegged == [first.pk]
    assert result.cancelled == [second.pk]
    first.refresh_from_db()
    assert _runs(first) == {other.reference: 6}
    assert OrderLine.objects.get(pk=second.pk).cancelled == 6
    assert_counters()


def test_a_new_order_never_takes_pairs_a_waiting_backorder_should_have(
    account, buyer, warehouse, sku, planner
):
    run = run_with(skus=[sku], warehouse=warehouse, quantity=50, eta_days=20)
    waiting = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=6)
    stock_sync(counts=[StockCountRequest(sku.code, 6)], user=planner)
    # the freshly counted pairs went to the waiting line: a new order has none to take
    placed = order_place(account=account, user=buyer, lines=[LineRequest(sku.code, 2)])
    assert placed.order.lines.get().allocated == 0
    waiting.refresh_from_db()
    assert waiting.allocated == 6
    assert _fair() == dict.fromkeys(FAIRNESS, 0)


def test_a_lowered_holdback_fills_waiting_backorders_before_anything_is_offered(
    account, buyer, warehouse, sku, client
):
    from django.urls import reverse

    from tests.factories import StaffFactory

    # given a backorder of 6 waiting on a run while all 10 pairs on hand are held back
    run = run_with(skus=[sku], warehouse=warehouse, quantity=20)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=6)
    StockLevel.objects.filter(sku=sku, warehouse=warehouse).update(on_hand=10, holdback=10)
    level = StockLevel.objects.get(sku=sku, warehouse=warehouse)
    # when the planner lowers the holdback to 2 on the stock page
    client.force_login(StaffFactory(is_superuser=True))
    response = client.post(
        reverse("admin:inventory_stocklevel_change", args=[level.pk]),
        {"holdback": "2", "change_reason": "Display pairs back in stock"},
    )
    # then the freed pairs went to the backorder first, and only the rest is ATS
    assert response.status_code == 302
    assert_split(line)
    assert (line.allocated, line.backordered) == (6, 0)
    assert _ats(sku, warehouse) == 2
    assert _fair() == dict.fromkeys(FAIRNESS, 0)

"""The promise report's figures on live data, and its admin page."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from backorders.models import PromiseDay
from backorders.promise_report import live_figures, promise_figures, slips_told
from backorders.services import eta_change, promise_day_record, run_cancel
from orders.services import LineRequest, order_cancel, order_place
from orders.services.fulfilment import shipment_confirm
from portal.roles import StaffRole
from tests.backorders.helpers import backordered_line, run_with, sku_in_stock, today
from tests.factories import SKUFactory, StaffFactory
from tests.orders.test_service_desk_helpers import staff_with

pytestmark = pytest.mark.django_db


def _shipped_from_stock(*, account, buyer, sku, po, ship_on):
    line = order_place(
        account=account, user=buyer, lines=[LineRequest(sku.code, 6)], po_number=po
    ).lines[0]
    moment = timezone.make_aware(dt.datetime.combine(ship_on, dt.time(10)))
    shipment_confirm(
        order=line.order,
        carrier="UPS",
        tracking=f"1Z{po}",
        user=None,
        lines=[{"sku": sku.code, "quantity": 6}],
        shipped_at=moment,
    )
    line.refresh_from_db()
    return line


def test_a_line_shipped_by_its_promised_date_kept_it_and_a_late_one_did_not(
    account, buyer, warehouse
):
    sku = sku_in_stock(warehouse=warehouse, on_hand=50)
    on_time = _shipped_from_stock(account=account, buyer=buyer, sku=sku, po="PO1", ship_on=today())
    promised = on_time.promised_date
    _shipped_from_stock(
        account=account, buyer=buyer, sku=sku, po="PO2", ship_on=promised + dt.timedelta(days=3)
    )

    figures = promise_figures(since=today(), until=promised + dt.timedelta(days=5))

    assert (figures.lines_due, figures.promises_kept) == (2, 0.5)
    assert figures.backorder_lines_due == 0
    assert figures.fill_rate == 1.0


def test_pairs_that_could_not_be_had_at_placement_are_the_brands_and_not_filled(
    account, buyer, warehouse
):
    # 6 pairs ordered, 4 in stock and no run to bring more: 2 are cancelled at placement
    sku = sku_in_stock(warehouse=warehouse, on_hand=4)
    line = order_place(
        account=account, user=buyer, lines=[LineRequest(sku.code, 6)], po_number="PO1"
    ).lines[0]
    assert (line.allocated, line.cancelled, line.cancelled_at_placement) == (4, 2, 2)
    shipment_confirm(
        order=line.order,
        carrier="UPS",
        tracking="1ZPO1",
        user=None,
        lines=[{"sku": sku.code, "quantity": 4}],
        shipped_at=timezone.now(),
    )

    figures = promise_figures(since=today(), until=line.promised_date)

    # the 4 promised shipped by their date; the 2 never promised count against the fill
    assert (figures.lines_due, figures.promises_kept) == (1, 1.0)
    assert (figures.pairs_not_had_at_placement, figures.pairs_cancelled_by_store) == (2, 0)
    assert figures.pairs_cancelled_by_brand == 0
    assert (figures.pairs_ordered, figures.pairs_shipped, figures.fill_rate) == (6, 4, 0.6667)

    # when the store cancels a second order, its pairs are the store's and not ordered
    other = sku_in_stock(warehouse=warehouse, on_hand=10)
    second = order_place(
        account=account, user=buyer, lines=[LineRequest(other.code, 3)], po_number="PO2"
    ).order
    order_cancel(order=second, user=buyer)

    figures = promise_figures(since=today(), until=line.promised_date)
    assert (figures.pairs_not_had_at_placement, figures.pairs_cancelled_by_store) == (2, 3)
    assert (figures.pairs_ordered, figures.fill_rate) == (6, 0.6667)


def test_a_line_not_due_yet_is_not_counted(account, buyer, warehouse):
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=20)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=4)

    early = promise_figures(since=today(), until=line.promised_date - dt.timedelta(days=1))
    due = promise_figures(since=today(), until=line.promised_date)

    assert early.lines_due == 0
    assert (due.backorder_lines_due, due.backorder_promises_kept, due.fill_rate) == (1, 0.0, 0.0)
    assert due.backorder_misses == {
        "run_cancelled": 0,
        "window": 0,
        "stock_shortage": 0,
        "shipped_late": 0,
        "not_shipped": 1,
    }


def test_a_backorder_whose_run_is_cancelled_missed_for_that_cause(account, buyer, warehouse):
    # given a backorder on the only run of its SKU
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=20)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=4)
    # when the factory cancels the run (no other run to move it to: the brand cancels it)
    run_cancel(run=run, reason="Factory closed", user=StaffFactory())
    # then the line missed its promise, and the report says why
    figures = promise_figures(since=today(), until=line.promised_date)
    assert (figures.backorder_lines_due, figures.backorder_promises_kept) == (1, 0.0)
    assert figures.backorder_misses["run_cancelled"] == 1
    assert sum(figures.backorder_misses.values()) == 1


def test_a_slip_told_before_the_date_given_is_told_early(account, buyer, warehouse):
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=4)

    eta_change(run=run, new_eta=run.eta + dt.timedelta(days=7), reason="Late", user=None)
    told = slips_told(since=today(), until=today(), today=today())

    assert told["slips"] == 1
    assert told["slips_told_early"] == 1.0
    assert told["median_warning_days"] == (line.communicated_date - today()).days


def test_a_date_given_that_passes_untold_is_a_slip_not_told(account, buyer, warehouse):
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=4)

    later = line.communicated_date + dt.timedelta(days=1)
    told = slips_told(since=today(), until=later, today=later)

    assert (told["slips"], told["slips_told_early"]) == (1, 0.0)


def test_the_admin_page_shows_planners_the_figures(
    client, account, buyer, warehouse, django_assert_max_num_queries
):
    sku = sku_in_stock(warehouse=warehouse, on_hand=50)
    _shipped_from_stock(account=account, buyer=buyer, sku=sku, po="PO1", ship_on=today())
    client.force_login(staff_with(StaffRole.PLANNER))

    with django_assert_max_num_queries(25):
        response = client.get(reverse("admin:backorders_promisereport_changelist"))

    assert response.status_code == 200
    assert "Promise report, last 90 days" in response.text
    assert "Backorder promises kept" in response.text


def test_customer_service_sees_the_page_and_other_staff_do_not(client):
    client.force_login(staff_with(StaffRole.CS_AGENT))
    assert client.get(reverse("admin:backorders_promisereport_changelist")).status_code == 200
    client.force_login(staff_with(None))
    assert client.get(reverse("admin:backorders_promisereport_changelist")).status_code == 403


def test_live_figures_sum_the_evening_snapshots_of_the_last_90_days(account, buyer, warehouse):
    # given a backorder that outlives its window by two evenings
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=4)
    first = line.window_end + dt.timedelta(days=1)
    for offset in range(2):
        promise_day_record(today=first + dt.timedelta(days=offset))
    promise_day_record(today=first + dt.timedelta(days=1))  # run twice: the day is replaced
    PromiseDay.objects.create(day=first - dt.timedelta(days=200), pairs_past_window=50)

    # when
    figures = live_figures(today=first + dt.timedelta(days=1))

    # then pair-days, as the season simulator reports them: 4 pairs for 2 days
    assert figures["pair_days_past_window"] == 8
    assert figures["pair_days_free_while_waiting"] == 0
    assert figures["pair_days_backordered"] == 8

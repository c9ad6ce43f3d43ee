"""Receipts racing placements, on PostgreSQL with real threads: whatever order the
database serialises them in, the ledger holds and the oldest backorder is filled first."""

import datetime as dt

import pytest

from backorders.services import ReceiveRequest, eta_change, run_receive
from inventory.models import StockLevel
from orders.exceptions import OrderInputError
from orders.models import OrderLine
from orders.selectors import line_expected_dates
from orders.services import LineRequest, order_place
from portal.invariants import invariant_violations
from tests.backorders.helpers import backordered_line, race, run_with
from tests.conftest import concurrent
from tests.factories import MembershipFactory, SKUFactory, StaffFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), concurrent]

PLACERS = 4


def _assert_ledger_holds():
    broken = {name: count for name, count in invariant_violations().items() if count}
    assert not broken, broken


def test_a_receipt_racing_placements_fills_the_oldest_backorder_first(account, buyer, warehouse):
    # given nothing in stock, a run of 20 pairs and an older backorder of 10 on it
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, quantity=20)
    oldest = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=10)
    buyers = [MembershipFactory(account=account, user=UserFactory()).user for _ in range(PLACERS)]
    # when the run is received while four stores order 5 pairs each
    jobs = {
        f"place-{n}": (
            lambda user=user, n=n: order_place(
                account=account, user=user, lines=[LineRequest(sku.code, 5)], po_number=f"R{n}"
            )
        )
        for n, user in enumerate(buyers)
    }
    jobs["receive"] = lambda: run_receive(run=run, user=StaffFactory())
    outcome = race(jobs)
    # then the receipt and two placements went through (the run's 20 pairs are 10 for the
    # oldest and 10 more); the two that could have nothing were refused, and the oldest
    # backorder was filled from the run
    errors = {name: result for name, result in outcome.items() if isinstance(result, Exception)}
    assert len(errors) == 2, errors
    assert "receive" not in errors, errors
    assert all(isinstance(error, OrderInputError) for error in errors.values()), errors
    oldest.refresh_from_db()
    assert (oldest.allocated, oldest.backordered) == (10, 0)
    # the 20 pairs went to the oldest and then to the placements; nothing oversold
    level = StockLevel.objects.get(sku=sku, warehouse=warehouse)
    assert level.on_hand == 20
    assert level.allocated == 20
    placed = OrderLine.objects.filter(sku=sku).exclude(pk=oldest.pk)
    assert sum(line.allocated for line in placed) == 10
    _assert_ledger_holds()


def test_an_eta_change_racing_a_receipt_leaves_every_waiting_line_its_runs_date(
    account, buyer, warehouse
):
    # given two runs of one SKU; lines waiting on both
    sku = SKUFactory()
    first = run_with(skus=[sku], warehouse=warehouse, quantity=8, eta_days=10)
    second = run_with(skus=[sku], warehouse=warehouse, quantity=30, eta_days=20)
    lines = [
        backordered_line(account=account, buyer=buyer, sku=sku, run=first, quantity=6)
        for _ in range(4)
    ]
    # when part of the first run arrives while the second slips a week
    outcome = race(
        {
            "receive": lambda: run_receive(
                run=first, user=StaffFactory(), lines=[ReceiveRequest(sku.code, 5)]
            ),
            "change": lambda: eta_change(
                run=second,
                new_eta=second.eta + dt.timedelta(days=7),
                reason="Factory delay",
                user=None,
            ),
        }
    )
    errors = {name: result for name, result in outcome.items() if isinstance(result, Exception)}
    assert not errors, errors
    # then the 5 pairs went to the oldest line, and every line still waiting was told
    # the date its run gives now
    waiting = OrderLine.objects.filter(pk__in=[line.pk for line in lines], backordered__gt=0)
    expected = line_expected_dates(lines=list(waiting))
    for line in waiting:
        assert line.communicated_date == expected[line.pk], line.pk
    lines[0].refresh_from_db()
    assert lines[0].allocated == 5
    _assert_ledger_holds()

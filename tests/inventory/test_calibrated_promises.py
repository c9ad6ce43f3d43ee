"""Calibrated promise dates: a backorder's date adds its factory's usual slip (from its
record of first ETA against arrival), derived at read time through ship_date_from_run."""

import datetime as dt

import pytest

from inventory.calendar import add_business_days
from inventory.models import EtaChange, InboundStatus
from inventory.selectors import (
    FactoryRecord,
    NoPromiseReason,
    factory_records,
    promise_basis,
    promise_for,
    run_records,
    ship_date_from_run,
)
from tests.factories import InboundLineFactory, InboundRunFactory, SKUFactory, StockLevelFactory
from tests.inventory.conftest import MONDAY

pytestmark = pytest.mark.django_db


def _history(factory, slips, warehouse):
    """Received runs of a factory, each `slip` days after the ETA it was booked with."""
    for index, slip in enumerate(slips):
        eta = MONDAY - dt.timedelta(days=40 + 10 * index)
        InboundRunFactory(
            factory=factory,
            warehouse=warehouse,
            status=InboundStatus.RECEIVED,
            eta=eta,
            arrived_on=eta + dt.timedelta(days=slip),
        )


def test_a_factorys_record_is_arrival_against_the_eta_it_was_first_given(warehouse):
    _history("Leon", [0, 4], warehouse)
    moved = InboundRunFactory(
        factory="Leon",
        warehouse=warehouse,
        status=InboundStatus.RECEIVED,
        eta=MONDAY,
        arrived_on=MONDAY,
    )
    # booked for ten days earlier; the move does not hide the slip from the record
    EtaChange.objects.create(
        run=moved, old_eta=MONDAY - dt.timedelta(days=10), new_eta=MONDAY, reason="late"
    )

    record = factory_records()["Leon"]

    assert sorted(record.slips) == [0, 4, 10]
    assert record.usual_slip(75) == 10
    assert record.usual_slip(50) == 4


def test_the_usual_slip_is_the_percentile_of_the_record():
    record = FactoryRecord("F", tuple(range(1, 20)))  # 1..19 days late
    assert record.usual_slip(90) == 18  # 18/(19+1): 90 in 100 future runs within it
    assert record.usual_slip(50) == 10
    assert record.usual_slip(95) == 19  # 19/20: the longest on record
    assert record.usual_slip(5) == 1


def test_a_short_record_promises_no_tighter_than_it_knows():
    # given ten runs: the 9th smallest covers 9 in 11 future runs, not 9 in 10
    record = FactoryRecord("F", tuple(range(1, 11)))
    # then "p90" is the longest slip on record
    assert record.usual_slip(90) == 10
    assert record.usual_slip(5) == 1


def test_a_percentile_past_the_record_goes_on_at_the_pace_of_its_top_quarter():
    # ten runs: the longest covers 10 in 11 future runs, so p95 (rank 10.45) lies past it
    record = FactoryRecord("F", (0, 0, 0, 0, 0, 2, 4, 8, 12, 20))
    assert record.usual_slip(90) == 20  # rank 9.9: the longest
    # the top quarter (two runs) climbs (20 - 8) / 2 = 6 days a rank: 20 + 0.45 * 6, up
    assert record.usual_slip(95) == 23
    assert record.usual_slip(100) == 26  # one whole rank past the longest
    # twenty runs reach p95 with their longest; p97 is 0.37 of a rank past it
    record = FactoryRecord("F", tuple(range(20)))  # 0..19: one day a rank
    assert record.usual_slip(95) == 19
    assert record.usual_slip(97) == 20


def test_a_record_of_one_run_or_none_goes_no_further_than_it_knows():
    assert FactoryRecord("F", (7,)).usual_slip(99) == 7
    assert FactoryRecord("F", ()).usual_slip(90) == 0
    # all runs alike: no climb to go on with
    assert FactoryRecord("F", (5,) * 12).usual_slip(99) == 5


def test_a_backorder_date_adds_the_factorys_usual_slip(terms, warehouse):
    _history("Leon", [9] * 5, warehouse)
    run = InboundRunFactory(factory="Leon", warehouse=warehouse, eta=MONDAY + dt.timedelta(days=14))
    record = run_records(run_ids=[run.pk])[run.pk]

    calibrated = ship_date_from_run(eta=run.eta, terms=terms, today=MONDAY, record=record)

    assert calibrated == add_business_days(run.eta + dt.timedelta(days=9), terms.receiving_days)
    assert ship_date_from_run(eta=run.eta, terms=terms, today=MONDAY) == add_business_days(
        run.eta, terms.receiving_days
    )


def test_a_run_already_moved_later_has_used_up_that_much_of_the_slip(terms, warehouse):
    _history("Leon", [9] * 5, warehouse)
    booked = MONDAY + dt.timedelta(days=14)
    run = InboundRunFactory(factory="Leon", warehouse=warehouse, eta=booked + dt.timedelta(days=6))
    EtaChange.objects.create(run=run, old_eta=booked, new_eta=run.eta, reason="late")
    record = run_records(run_ids=[run.pk])[run.pk]

    date = ship_date_from_run(eta=run.eta, terms=terms, today=MONDAY, record=record)

    assert date == add_business_days(booked + dt.timedelta(days=9), terms.receiving_days)


def test_too_little_history_adds_the_terms_default_buffer(terms, warehouse):
    terms.promise_default_buffer_days = 5
    _history("New", [30] * (terms.promise_min_history - 1), warehouse)
    run = InboundRunFactory(factory="New", warehouse=warehouse, eta=MONDAY + dt.timedelta(days=14))
    record = run_records(run_ids=[run.pk])[run.pk]

    date = ship_date_from_run(eta=run.eta, terms=terms, today=MONDAY, record=record)

    assert date == add_business_days(run.eta + dt.timedelta(days=5), terms.receiving_days)


def test_percentile_zero_promises_the_eta_as_given(terms, warehouse):
    terms.promise_slip_percentile = 0
    _history("Leon", [9] * 5, warehouse)
    run = InboundRunFactory(factory="Leon", warehouse=warehouse, eta=MONDAY + dt.timedelta(days=14))
    record = run_records(run_ids=[run.pk])[run.pk]

    date = ship_date_from_run(eta=run.eta, terms=terms, today=MONDAY, record=record)

    assert date == add_business_days(run.eta, terms.receiving_days)


def _four_pairs_within_four_weeks(terms, warehouse, runs):
    """Promise four pairs of a SKU out of stock, with ten pairs on each of `runs`, inside
    a window of four weeks; the inbound lines, and the promise."""
    sku = SKUFactory()
    StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=0)
    lines = [InboundLineFactory(sku=sku, run=run, quantity=10) for run in runs]
    window_end = MONDAY + dt.timedelta(days=28)
    promise = promise_for(sku=sku, quantity=4, terms=terms, window_end=window_end, today=MONDAY)
    return lines, promise


def test_a_run_whose_calibrated_date_passes_the_window_is_not_promised(terms, warehouse):
    _history("Agra", [30] * 5, warehouse)
    run = InboundRunFactory(factory="Agra", warehouse=warehouse, eta=MONDAY + dt.timedelta(days=14))

    _, promise = _four_pairs_within_four_weeks(terms, warehouse, [run])

    # ETA + 30 days passes the window: the record says a date held at the window end
    # would likely be broken, so the run is not promised
    assert (promise.backordered, promise.unpromised) == (0, 4)
    assert promise.reason == NoPromiseReason.BEYOND_WINDOW


def test_a_run_moved_later_that_fits_is_promised_when_one_due_before_it_does_not(terms, warehouse):
    _history("Agra", [20] * 5, warehouse)
    # booked for day 10, not moved: expected day 30
    due = InboundRunFactory(factory="Agra", warehouse=warehouse, eta=MONDAY + dt.timedelta(days=10))
    # booked for day 0, already moved to day 12: expected day 20
    moved = InboundRunFactory(
        factory="Agra", warehouse=warehouse, eta=MONDAY + dt.timedelta(days=12)
    )
    EtaChange.objects.create(run=moved, old_eta=MONDAY, new_eta=moved.eta, reason="late")

    (_, moved_line), promise = _four_pairs_within_four_weeks(terms, warehouse, [due, moved])

    assert [(part.inbound_line_id, part.quantity) for part in promise.parts] == [(moved_line.pk, 4)]
    assert promise.unpromised == 0
    assert promise.reason == ""
    assert promise.ships_by == add_business_days(
        MONDAY + dt.timedelta(days=20), terms.receiving_days
    )


def _moved_run(factory, warehouse, *, already):
    """A run booked for two weeks out, its ETA since moved `already` days later."""
    booked = MONDAY + dt.timedelta(days=14)
    run = InboundRunFactory(
        factory=factory, warehouse=warehouse, eta=booked + dt.timedelta(days=already)
    )
    EtaChange.objects.create(run=run, old_eta=booked, new_eta=run.eta, reason="late")
    return booked, run


def test_a_run_already_late_gets_what_its_factorys_runs_that_late_took(terms, warehouse):
    terms.promise_default_buffer_days = 5
    # nineteen runs: p90 is the 18th smallest, 18 days; one run came 30 days late
    _history("Agra", [0] * 9 + [2, 4, 6, 8, 10, 12, 14, 16, 18, 30], warehouse)

    def promised(already):
        booked, run = _moved_run("Agra", warehouse, already=already)
        record = run_records(run_ids=[run.pk])[run.pk]
        date = ship_date_from_run(eta=run.eta, terms=terms, today=MONDAY, record=record)
        return booked, run, (date, promise_basis(eta=run.eta, terms=terms, record=record))

    # not moved: the usual slip
    booked, run, (date, basis) = promised(0)
    assert date == add_business_days(booked + dt.timedelta(days=18), terms.receiving_days)
    assert basis.endswith("this factory is usually 18 days late")
    # moved 10 days, inside the usual slip: of the six runs at least that late one in six
    # came after 18 days, so 18 no longer covers nine in ten; p90 lies past the longest
    # (rank 6.3 of 6), 30 days plus 0.3 of the top quarter's 12-day gap, rounded up
    booked, run, (date, basis) = promised(10)
    assert date == add_business_days(booked + dt.timedelta(days=34), terms.receiving_days)
    assert basis.endswith("already 10 days later than first planned, 24 more allowed")
    # moved 20 days: past it; of the runs at least that late, the one came at 30
    booked, run, (date, basis) = promised(20)
    assert date == add_business_days(booked + dt.timedelta(days=30), terms.receiving_days)
    assert basis.endswith("already 20 days later than first planned, 10 more allowed")
    # moved 35 days: later than any run on record; the terms' default buffer past the ETA
    booked, run, (date, basis) = promised(35)
    assert date == add_business_days(run.eta + dt.timedelta(days=5), terms.receiving_days)
    assert basis.endswith("already 35 days later than first planned, 5 more allowed")


def test_a_run_later_than_all_but_a_few_on_record_gets_at_least_the_default_buffer(
    terms, warehouse
):
    terms.promise_default_buffer_days = 7
    # ten runs, the latest 14 days: one run says little about how much later 10 goes
    _history("Dong Nai", [0, 0, 0, 0, 4, 4, 5, 5, 7, 14], warehouse)
    booked, run = _moved_run("Dong Nai", warehouse, already=10)
    record = run_records(run_ids=[run.pk])[run.pk]

    date = ship_date_from_run(eta=run.eta, terms=terms, today=MONDAY, record=record)

    # the one run that late took 14 days; the ETA plus the default buffer is later
    assert date == add_business_days(run.eta + dt.timedelta(days=7), terms.receiving_days)
    assert promise_basis(eta=run.eta, terms=terms, record=record).endswith(
        "already 10 days later than first planned, 7 more allowed"
    )


def test_a_run_later_than_any_on_record_gets_the_default_buffer_with_no_minimum_history(
    terms, warehouse
):
    terms.promise_default_buffer_days, terms.promise_min_history = 7, 0
    _history("Dong Nai", [0, 4, 14], warehouse)
    _, run = _moved_run("Dong Nai", warehouse, already=20)
    record = run_records(run_ids=[run.pk])[run.pk]

    date = ship_date_from_run(eta=run.eta, terms=terms, today=MONDAY, record=record)

    assert date == add_business_days(run.eta + dt.timedelta(days=7), terms.receiving_days)

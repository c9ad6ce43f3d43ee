"""Calibrated promise dates: a backorder's date adds its factory's usual slip (from its
record of first ETA against arrival), derived at read time through ship_date_from_run."""

import datetime as dt

import pytest

from inventory.calendar import add_business_days
from inventory.models import EtaChange, InboundStatus
from inventory.selectors import (
    FactoryRecord,
    factory_records,
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
    assert record.usual_slip(90) == 10
    assert record.usual_slip(50) == 4


def test_the_usual_slip_is_the_percentile_of_the_record():
    record = FactoryRecord("F", tuple(range(1, 20)))  # 1..19 days late
    assert record.usual_slip(90) == 18  # 18/(19+1): 90 in 100 future runs within it
    assert record.usual_slip(50) == 10
    assert record.usual_slip(100) == 19
    assert record.usual_slip(5) == 1


def test_a_short_record_promises_no_tighter_than_it_knows():
    # given ten runs: the 9th smallest covers 9 in 11 future runs, not 9 in 10
    record = FactoryRecord("F", tuple(range(1, 11)))
    # then "p90" is the longest slip on record
    assert record.usual_slip(90) == 10
    assert record.usual_slip(5) == 1


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


def test_the_promise_never_passes_the_window_when_the_eta_fits_it(terms, warehouse):
    _history("Agra", [30] * 5, warehouse)
    sku = SKUFactory()
    StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=0)
    run = InboundRunFactory(factory="Agra", warehouse=warehouse, eta=MONDAY + dt.timedelta(days=14))
    InboundLineFactory(sku=sku, run=run, quantity=10)
    window_end = MONDAY + dt.timedelta(days=28)

    promise = promise_for(sku=sku, quantity=4, terms=terms, window_end=window_end, today=MONDAY)

    assert promise.unpromised == 0
    assert promise.ships_by == window_end  # ETA + 30 days would pass it: held at the window

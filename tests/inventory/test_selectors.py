import datetime as dt
from decimal import Decimal

import pytest

from inventory.calendar import add_business_days
from inventory.models import SKU, InboundStatus, Replenishment, Width
from inventory.pricing import priced
from inventory.selectors import (
    CatalogueQuery,
    NoPromiseReason,
    future_ats,
    next_eta_by_sku,
    promise_for,
    run_etas,
    style_future_ats,
    week_dates,
)
from tests.factories import (
    InboundLineFactory,
    InboundRunFactory,
    SKUFactory,
    StockLevelFactory,
    StyleFactory,
    WarehouseFactory,
)
from tests.inventory.conftest import MONDAY

pytestmark = pytest.mark.django_db


def days(n):
    return MONDAY + dt.timedelta(days=n)


def series(sku, weeks=12):
    points = future_ats(sku_ids=[sku.pk], dates=week_dates(start=MONDAY, weeks=weeks))[sku.pk]
    return [point.ats for point in points]


def test_future_ats_grows_with_each_run_due_and_never_falls_without_cancellations(warehouse):
    # given 5 pairs now and three runs arriving over the quarter
    sku = SKUFactory()
    StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=8, allocated=3)
    for eta, quantity in [(days(7), 10), (days(21), 20), (days(50), 5)]:
        InboundLineFactory(sku=sku, quantity=quantity, run=InboundRunFactory(eta=eta))

    # when
    ats = series(sku)

    # then
    assert ats == [5, 15, 15, 35, 35, 35, 35, 35, 40, 40, 40, 40, 40]
    assert all(earlier <= later for earlier, later in zip(ats, ats[1:], strict=False))


def test_a_cancelled_or_received_run_adds_nothing(warehouse):
    sku = SKUFactory()
    StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=4)
    InboundLineFactory(
        sku=sku, quantity=100, run=InboundRunFactory(eta=days(7), status=InboundStatus.CANCELLED)
    )
    InboundLineFactory(
        sku=sku,
        quantity=50,
        received=50,
        run=InboundRunFactory(eta=days(14), status=InboundStatus.RECEIVED),
    )
    assert set(series(sku)) == {4}


def test_promised_and_received_pairs_are_subtracted_from_future_ats(warehouse):
    sku = SKUFactory()
    InboundLineFactory(
        sku=sku, quantity=30, received=5, promised=12, run=InboundRunFactory(eta=days(10))
    )
    assert series(sku, weeks=2) == [0, 0, 13]


def test_style_future_ats_of_80_skus_over_12_weeks_takes_a_handful_of_queries(
    warehouse, django_assert_max_num_queries
):
    # given a style with 80 SKUs, each with stock and two runs
    style = StyleFactory()
    skus = [SKUFactory(style=style, color=f"Colour {n // 17}") for n in range(80)]
    run_a, run_b = InboundRunFactory(eta=days(10)), InboundRunFactory(eta=days(40))
    for sku in skus:
        StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=6, allocated=1)
        InboundLineFactory(sku=sku, run=run_a, quantity=12)
        InboundLineFactory(sku=sku, run=run_b, quantity=24, promised=4)

    # when
    with django_assert_max_num_queries(2):
        result = style_future_ats(style=style, weeks=12, start=MONDAY)

    # then
    assert len(result) == 80
    assert {tuple(p.ats for p in points) for points in result.values()} == {
        (5, 5, 17, 17, 17, 17, 37, 37, 37, 37, 37, 37, 37)
    }


def test_next_eta_is_the_earliest_open_run_with_unpromised_pairs(warehouse):
    sku, bare = SKUFactory(), SKUFactory()
    InboundLineFactory(sku=sku, quantity=10, promised=10, run=InboundRunFactory(eta=days(5)))
    InboundLineFactory(
        sku=sku, quantity=10, run=InboundRunFactory(eta=days(9), status=InboundStatus.CANCELLED)
    )
    InboundLineFactory(sku=sku, quantity=10, run=InboundRunFactory(eta=days(30)))
    InboundLineFactory(sku=sku, quantity=10, run=InboundRunFactory(eta=days(20)))
    assert next_eta_by_sku(sku_ids=[sku.pk, bare.pk]) == {sku.pk: days(20), bare.pk: None}


def test_run_etas_reads_each_runs_eta_and_nothing_for_no_runs():
    runs = [InboundRunFactory(eta=days(n)) for n in (3, 9)]
    assert run_etas(run_ids=[runs[1].pk, runs[0].pk, runs[1].pk]) == {
        runs[0].pk: days(3),
        runs[1].pk: days(9),
    }
    assert run_etas(run_ids=[]) == {}


# --- The catalogue ---------------------------------------------------------------------


def test_a_catalogue_page_lists_its_rows_in_order_with_ats_and_next_eta(
    warehouse, django_assert_max_num_queries
):
    # given two styles (created out of catalogue order), SKUs with stock and runs
    later_style, first_style = StyleFactory(number="ST-B"), StyleFactory(number="ST-A")
    wide = SKUFactory(style=first_style, size=Decimal("9.0"), width=Width.WIDE, price=Decimal(80))
    StockLevelFactory(sku=wide, warehouse=warehouse, on_hand=10, allocated=3, holdback=2)
    east = WarehouseFactory(code="EAST", is_default=False)
    StockLevelFactory(sku=wide, warehouse=east, on_hand=1, holdback=4)  # 0 there, not -3
    InboundLineFactory(sku=wide, run=InboundRunFactory(eta=days(30)))
    InboundLineFactory(sku=wide, run=InboundRunFactory(eta=days(12)))
    narrow = SKUFactory(style=first_style, size=Decimal("9.0"), width=Width.NARROW)
    half = SKUFactory(style=first_style, size=Decimal("8.5"))
    other = SKUFactory(style=later_style, size=Decimal("5.0"), core=True)
    query = CatalogueQuery(priced(SKU.objects.all(), None))

    # when
    with django_assert_max_num_queries(4):  # count, page, inbound lines, run ETAs
        count, page = query.count(), query[1:4]

    # then: style, colour, size, width order; the first row is skipped
    assert count == 4
    assert [item.code for item in page] == [narrow.code, wide.code, other.code]
    assert half.code not in {item.code for item in page}
    assert page[1]._asdict() == {
        "style_number": "ST-A",
        "color": "Black",
        "size": Decimal("9.0"),
        "width": Width.WIDE,
        "sku_id": wide.pk,
        "code": wide.code,
        "upc": wide.upc,
        "replenishment": Replenishment.COMMITTED,
        "price": Decimal("80.00"),
        "msrp": Decimal("130.00"),
        "core": False,
        "ats": 5,
        "next_eta": days(12),
    }
    assert (page[1].size_label, page[1].width_label) == ("9", "W")
    assert (page[0].ats, page[0].next_eta, page[2].core) == (0, None, True)


def test_a_catalogue_query_reads_afresh_each_time_it_is_read(warehouse):
    # given a query compiled before the stock and the runs change
    sku = SKUFactory()
    level = StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=10)
    query = CatalogueQuery(priced(SKU.objects.filter(color="Black"), None))
    assert [(item.ats, item.next_eta) for item in query[0:50]] == [(10, None)]

    # when
    level.allocated = 4
    level.save(update_fields=["allocated"])
    InboundLineFactory(sku=sku, run=InboundRunFactory(eta=days(20)))
    SKUFactory(color="Black")

    # then
    assert query.count() == 2
    assert [(item.ats, item.next_eta) for item in query[0:50]][0] == (6, days(20))


def test_a_catalogue_of_nothing_counts_zero_and_has_empty_pages():
    SKUFactory()
    query = CatalogueQuery(priced(SKU.objects.none(), None))
    assert (query.count(), query[0:50]) == (0, [])
    assert CatalogueQuery(priced(SKU.objects.all(), None))[0:0] == []


# --- Promise dates: every branch ---------------------------------------------------------


def test_promise_from_stock_ships_after_the_processing_business_days(terms, warehouse):
    sku = SKUFactory()
    StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=10)
    promise = promise_for(sku=sku, quantity=6, terms=terms, today=MONDAY)
    assert promise.unpromised == 0
    assert promise.reason == ""
    assert [(p.quantity, p.ships_by, p.from_stock) for p in promise.parts] == [
        (6, add_business_days(MONDAY, terms.processing_days), True)
    ]
    assert promise.ships_by == days(2)  # Wednesday


def test_promise_from_a_run_ships_receiving_days_after_its_eta(terms, warehouse):
    sku = SKUFactory()
    StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=2)
    run = InboundRunFactory(eta=days(18))  # a Friday
    line = InboundLineFactory(sku=sku, run=run, quantity=40, promised=5)
    promise = promise_for(sku=sku, quantity=6, terms=terms, today=MONDAY)
    assert promise.from_stock == 2
    assert promise.backordered == 4
    (inbound,) = promise.inbound_parts
    assert (inbound.inbound_line_id, inbound.run_reference, inbound.eta) == (
        line.pk,
        run.reference,
        days(18),
    )
    assert inbound.ships_by == add_business_days(days(18), terms.receiving_days) == days(23)


def test_a_late_run_counts_as_arriving_today(terms):
    sku = SKUFactory()
    InboundLineFactory(sku=sku, run=InboundRunFactory(eta=days(-10)), quantity=5)
    promise = promise_for(sku=sku, quantity=5, terms=terms, today=MONDAY)
    assert promise.ships_by == add_business_days(MONDAY, terms.receiving_days)


def test_cannot_promise_an_inactive_sku(terms, warehouse):
    sku = SKUFactory(active=False)
    StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=10)
    promise = promise_for(sku=sku, quantity=3, terms=terms, today=MONDAY)
    assert (promise.parts, promise.unpromised, promise.reason) == ((), 3, NoPromiseReason.INACTIVE)


@pytest.mark.parametrize("replenishment", [Replenishment.SEASONAL, Replenishment.DISCONTINUED])
def test_cannot_backorder_a_style_not_committed_to_reproduction(terms, warehouse, replenishment):
    sku = SKUFactory(style=StyleFactory(replenishment=replenishment))
    StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=2)
    InboundLineFactory(sku=sku, run=InboundRunFactory(eta=days(7)))
    promise = promise_for(sku=sku, quantity=5, terms=terms, today=MONDAY)
    assert (promise.from_stock, promise.unpromised, promise.reason) == (
        2,
        3,
        NoPromiseReason.NOT_COMMITTED,
    )


def test_cannot_backorder_when_backorders_were_declined(terms):
    sku = SKUFactory()
    InboundLineFactory(sku=sku, run=InboundRunFactory(eta=days(7)))
    promise = promise_for(sku=sku, quantity=5, terms=terms, allow_backorder=False, today=MONDAY)
    assert (promise.unpromised, promise.reason) == (5, NoPromiseReason.BACKORDERS_DECLINED)


def test_cannot_backorder_with_nothing_inbound(terms):
    sku = SKUFactory()
    InboundLineFactory(sku=sku, run=InboundRunFactory(eta=days(7), status=InboundStatus.CANCELLED))
    promise = promise_for(sku=sku, quantity=5, terms=terms, today=MONDAY)
    assert (promise.unpromised, promise.reason) == (5, NoPromiseReason.NOTHING_INBOUND)


def test_cannot_backorder_what_earlier_orders_already_hold(terms):
    sku = SKUFactory()
    InboundLineFactory(sku=sku, run=InboundRunFactory(eta=days(7)), quantity=8, promised=8)
    promise = promise_for(sku=sku, quantity=5, terms=terms, today=MONDAY)
    assert (promise.unpromised, promise.reason) == (5, NoPromiseReason.FULLY_PROMISED)


def test_a_partly_promised_run_promises_what_it_still_has(terms):
    sku = SKUFactory()
    InboundLineFactory(sku=sku, run=InboundRunFactory(eta=days(7)), quantity=8, promised=5)
    promise = promise_for(sku=sku, quantity=5, terms=terms, today=MONDAY)
    assert (promise.backordered, promise.unpromised, promise.reason) == (
        3,
        2,
        NoPromiseReason.FULLY_PROMISED,
    )


def test_cannot_promise_a_run_that_ships_after_the_backorder_window(terms):
    sku = SKUFactory()
    InboundLineFactory(sku=sku, run=InboundRunFactory(eta=days(30)))
    promise = promise_for(sku=sku, quantity=5, terms=terms, window_end=days(20), today=MONDAY)
    assert (promise.parts, promise.unpromised, promise.reason) == (
        (),
        5,
        NoPromiseReason.BEYOND_WINDOW,
    )


def test_cannot_promise_a_run_beyond_the_promise_horizon(terms):
    sku = SKUFactory()
    InboundLineFactory(sku=sku, run=InboundRunFactory(eta=days(terms.promise_horizon_days + 1)))
    promise = promise_for(sku=sku, quantity=5, terms=terms, today=MONDAY)
    assert (promise.unpromised, promise.reason) == (5, NoPromiseReason.BEYOND_HORIZON)


def test_a_promise_spans_runs_earliest_first_inside_the_window(terms):
    sku = SKUFactory()
    later = InboundLineFactory(sku=sku, run=InboundRunFactory(eta=days(21)), quantity=10)
    sooner = InboundLineFactory(sku=sku, run=InboundRunFactory(eta=days(7)), quantity=4)
    InboundLineFactory(sku=sku, run=InboundRunFactory(eta=days(80)), quantity=50)
    promise = promise_for(sku=sku, quantity=20, terms=terms, window_end=days(40), today=MONDAY)
    assert [(p.inbound_line_id, p.quantity) for p in promise.parts] == [
        (sooner.pk, 4),
        (later.pk, 10),
    ]
    assert (promise.unpromised, promise.reason) == (6, NoPromiseReason.BEYOND_WINDOW)

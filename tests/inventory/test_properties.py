"""Property tests: the ATS and promise invariants over random sequences."""

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory import locks, services
from inventory.exceptions import InsufficientStock, InventoryError, InventoryInputError
from inventory.models import StockLevel
from inventory.selectors import (
    InboundSlot,
    ats_by_sku,
    promise_plan,
    ship_date_from_run,
    stock_takes,
)
from orders.ledger import counters
from tests.factories import CommercialTermsFactory, SKUFactory, StockLevelFactory
from tests.inventory.conftest import MONDAY

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

stock_ops = st.lists(
    st.one_of(
        st.tuples(st.just("count"), st.integers(-5, 60)),
        st.tuples(st.just("allocate"), st.integers(1, 30)),
        st.tuples(st.just("release"), st.integers(1, 30)),
        st.tuples(st.just("holdback"), st.integers(-2, 25)),
    ),
    max_size=25,
)


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(start=st.integers(0, 40), ops=stock_ops)
def test_ats_is_never_negative_and_stock_never_oversold(warehouse, start, ops):
    with transaction.atomic():
        level = StockLevelFactory(warehouse=warehouse, on_hand=start)
        for op, amount in ops:
            try:
                with transaction.atomic():
                    locked = locks.stock_level_lock_by_id(stock_level_id=level.pk)
                    if op == "count":
                        if amount < 0:
                            raise InventoryInputError("negative")
                        counters.stock_on_hand_set(stock_level_id=locked.pk, on_hand=amount)
                    elif op == "allocate":
                        counters.stock_allocate_many(
                            takes=stock_takes(levels=[locked], sku_id=level.sku_id, quantity=amount)
                        )
                    elif op == "release":
                        counters.stock_release_many(quantities={level.pk: amount})
                    else:
                        services.stock_holdback_set(stock_level_id=level.pk, holdback=amount)
            except (InventoryError, InventoryInputError, InsufficientStock):
                pass
            row = StockLevel.objects.with_ats().get(pk=level.pk)
            assert 0 <= row.allocated <= row.on_hand
            assert row.holdback >= 0
            assert row.ats_now == max(row.on_hand - row.allocated - row.holdback, 0) >= 0
            assert ats_by_sku(sku_ids=[level.sku_id])[level.sku_id] == row.ats_now
        transaction.set_rollback(True)


slot_specs = st.lists(
    st.tuples(st.integers(-10, 200), st.integers(1, 40)),  # (ETA in days from today, pairs)
    max_size=5,
)


@pytest.fixture
def committed_sku(db):
    return SKUFactory()


@pytest.fixture
def plain_terms(db):
    return CommercialTermsFactory()


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(
    quantity=st.integers(1, 120),
    ats=st.integers(0, 60),
    specs=slot_specs,
    window_days=st.one_of(st.none(), st.integers(0, 150)),
    allow_backorder=st.booleans(),
)
def test_a_promise_never_exceeds_what_exists_and_ships_inside_the_window(
    committed_sku, plain_terms, quantity, ats, specs, window_days, allow_backorder
):
    # given slots as the selectors produce them: earliest ETA first
    slots = [
        InboundSlot(n, committed_sku.pk, n, f"R{n}", MONDAY + dt.timedelta(days=days), available)
        for n, (days, available) in sorted(enumerate(specs, start=1), key=lambda s: (s[1][0], s[0]))
    ]
    window_end = MONDAY + dt.timedelta(days=window_days) if window_days is not None else None

    # when
    promise = promise_plan(
        sku=committed_sku,
        quantity=quantity,
        ats=ats,
        slots=slots,
        terms=plain_terms,
        window_end=window_end,
        allow_backorder=allow_backorder,
        today=MONDAY,
    )

    # then
    available = {slot.inbound_line_id: slot.available for slot in slots}
    assert sum(part.quantity for part in promise.parts) + promise.unpromised == quantity
    assert all(part.quantity > 0 for part in promise.parts)
    assert promise.from_stock <= ats
    assert promise.from_stock + promise.backordered <= ats + sum(available.values())
    horizon = MONDAY + dt.timedelta(days=plain_terms.promise_horizon_days)
    for part in promise.inbound_parts:
        assert allow_backorder
        assert part.quantity <= available[part.inbound_line_id]
        assert part.ships_by == ship_date_from_run(eta=part.eta, terms=plain_terms, today=MONDAY)
        assert part.ships_by <= horizon
        if window_end is not None:
            assert part.ships_by <= window_end
    assert bool(promise.reason) == (promise.unpromised > 0)

"""The simulated brand's factories come into the season with a record drawn the way the
season's own runs are received, so a calibrated promise is judged against the same
factories it learnt from; its stores reorder as buyers do."""

import pytest
from django.db.models import F
from django.utils import timezone

from inventory.models import InboundRun, InboundStatus, StockLevel
from orders.models import Order
from orders.services import LineRequest
from portal.simulation.scenarios import FACTORIES, SCENARIOS
from portal.simulation.season import Season
from portal.simulation.world import HISTORY_RUNS, world_build


@pytest.mark.django_db
def test_each_factory_comes_with_its_past_runs_received_on_business_days():
    # when the world is built
    world_build(seed=1, scenario=SCENARIOS["turbulent"], stores=1, percentile=90)
    # then each factory has its record of received runs, each one received (in full, the
    # day a run received in parts counts from) on a business day, as season runs are
    past = InboundRun.objects.filter(status=InboundStatus.RECEIVED)
    assert sorted(set(past.values_list("factory", flat=True))) == sorted(
        name for name, _ in FACTORIES
    )
    assert past.count() == HISTORY_RUNS * len(FACTORIES)
    assert all(day.weekday() < 5 for day in past.values_list("arrived_on", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize("through_cart", [False, True])
def test_a_store_under_the_fill_in_minimum_adds_pairs_in_stock_and_orders_again(through_cart):
    world = world_build(seed=1, scenario=SCENARIOS["calm"], stores=1, percentile=90)
    season = Season(world, weeks=1)
    store = world.stores[0]
    minimum = world.terms.fill_in_minimum_pairs
    sku = store.core[0][0]
    season._place(store, [LineRequest(sku.code, 1)], timezone.localdate(), through_cart=False)
    opening = Order.objects.get(account=store.account)  # an opening order has no minimum

    # when the store's reorder is one pair, under the minimum
    season._place(
        store, [LineRequest(sku.code, 1)], timezone.localdate(), through_cart=through_cart
    )

    # then it was sent again with pairs in stock added, and placed
    (order,) = Order.objects.filter(account=store.account).exclude(pk=opening.pk)
    lines = order.lines.all()
    assert sum(line.allocated for line in lines) >= minimum
    assert sum(line.quantity for line in lines) <= minimum + 1
    assert not season.observer.refusals


@pytest.mark.django_db
def test_a_refusal_is_counted_by_its_reason_with_the_figures_taken_out():
    world = world_build(seed=1, scenario=SCENARIOS["calm"], stores=1, percentile=90)
    season = Season(world, weeks=1)
    store = world.stores[0]
    code = store.core[0][0].code
    season._place(store, [LineRequest(code, 1)], timezone.localdate(), through_cart=False)
    StockLevel.objects.update(on_hand=F("allocated"))  # nothing in stock to add

    season._place(store, [LineRequest(code, 1)], timezone.localdate(), through_cart=False)

    assert Order.objects.filter(account=store.account).count() == 1  # the opening order
    (reason,) = season.observer.figures()["orders_refused_by_reason"]
    assert reason.startswith("A fill-in order needs at least N pairs; this one has N")

"""The simulated brand's factories come into the season with a record drawn the way the
season's own runs are received, so a calibrated promise is judged against the same
factories it learnt from."""

import pytest

from inventory.models import InboundRun, InboundStatus
from portal.simulation.scenarios import FACTORIES, SCENARIOS
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

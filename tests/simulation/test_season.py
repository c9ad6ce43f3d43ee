"""Small seasons through the real services, the overdue-run job each morning: no
backordered pair outlives its window, no free pair sits while a backorder of its SKU
waits, and every date that moved later was told before it passed, in every scenario; a
seed gives the same report every time."""

import json

import pytest
from django.core.management import call_command

from portal.simulation.cost import CostMeter
from portal.simulation.report import report_build, report_write
from portal.simulation.scenarios import SCENARIOS
from portal.simulation.season import season_simulate

WEEKS, STORES = 3, 3


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """The season's outbox sweep delivers; nothing is queued on the suite's broker."""
    monkeypatch.setattr("notifications.services.delivery_kick", lambda ids: 0)
    monkeypatch.setattr("orders.tasks.document_render_task.delay", lambda *args: None)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_a_small_season_keeps_the_hard_goals(scenario, seed):
    # when
    figures = season_simulate(
        seed=seed, scenario=SCENARIOS[scenario], weeks=WEEKS, stores=STORES, percentile=90
    )
    # then: pairs waited on backorder, so the goals were put to the test
    assert figures["pair_days_backordered"] > 0
    assert figures["pair_days_past_window"] == 0
    assert figures["pair_days_free_while_waiting"] == 0
    assert figures["slips_told_early"] == 1.0


@pytest.mark.django_db(transaction=True)
def test_the_cost_meter_counts_the_seasons_statements_by_phase():
    # when a week's season runs with the meter on
    meter = CostMeter()
    season_simulate(
        seed=1, scenario=SCENARIOS["calm"], weeks=1, stores=3, percentile=90, meter=meter
    )
    # then the stores' orders and their shipments are counted apart, per store-week
    assert meter.statements["placing"] > 0
    assert meter.statements["shipping"] > 0
    lines = meter.lines(store_weeks=3)
    assert lines[0].startswith("Per store-week: ")
    assert {line.split(":")[0].strip() for line in lines[1:]} >= {"placing", "shipping"}


def _season_report(tmp_path, name):
    figures = season_simulate(
        seed=7, scenario=SCENARIOS["chaotic"], weeks=WEEKS, stores=STORES, percentile=90
    )
    report = report_build(
        scenario="chaotic",
        seed=7,
        weeks=WEEKS,
        stores=STORES,
        percentile=90,
        season={},
        modes={"calibrated": figures},
    )
    json_path, html_path = report_write(report=report, out=tmp_path / name)
    return json_path.read_text(), html_path.read_text()


@pytest.mark.django_db(transaction=True)
def test_the_same_seed_gives_the_same_report(tmp_path):
    first, html = _season_report(tmp_path, "first")
    call_command("flush", interactive=False, verbosity=0)
    second, _ = _season_report(tmp_path, "second")

    assert first == second
    figures = json.loads(first)["modes"]["calibrated"]
    assert {
        "promises_kept",
        "backorder_promises_kept",
        "slips_told_early",
        "median_warning_days",
        "pair_days_past_window",
        "pair_days_free_while_waiting",
        "fill_rate",
        "messages_per_account_week",
        "factory_records",
    } <= set(figures)
    assert all(0 <= figures[key] <= 1 for key in ("promises_kept", "fill_rate"))
    # self-contained: the chart library is inlined, nothing is fetched
    assert "src=" not in html
    assert "Chart" in html


@pytest.mark.parametrize("options", [{"weeks": 0}, {"percentile": 0}, {"percentile": 101}])
def test_the_command_refuses_an_empty_season_or_a_percentile_out_of_range(options):
    with pytest.raises(SystemExit) as stopped:
        call_command("simulate_season", verbosity=0, **options)
    assert stopped.value.code == 2

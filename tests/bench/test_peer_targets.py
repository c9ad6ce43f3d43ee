"""The django-oscar peer's figures and targets in the bench report (bench/peer.py,
bench/run.py): pure arithmetic on measured figures, no Oscar install or server needed."""

import datetime as dt
from types import SimpleNamespace

from bench import peer as bench_peer
from bench.peer import side
from bench.run import evaluate, markdown

WRK = {
    "rps": {"median": 20.0, "min": 20.0, "max": 20.0, "spread_pct": 0.0},
    "p50_ms": {"median": 700.0},
    "p95_ms": {"median": 900.0},
    "requests": 100,
    "non_2xx": 0,
    "socket_errors": 0,
}
WINDOW = dt.timedelta(seconds=15)


def figures(lines_per_turn, *, orders=None, oversold=0, queries=250):
    """One side's figures from the lines placed in each 15 s turn (10 an order unless
    `orders` says how many orders each turn placed)."""
    turns = [
        (WRK, {"orders": orders or lines // 10, "lines": lines}, WINDOW) for lines in lines_per_turn
    ]
    return side(turns, queries=queries, oversold=oversold)


def results(peer):
    # The baselines every run measures, then what a `--only peer` run adds.
    data = {"counts": {}, "bare_django": WRK, "signed_in_frame": WRK, "bare_drf": WRK}
    data["peer"] = peer
    return {"measured_at": "now", "scale": 1, "x1": data}


def peer(ours, oscar):
    return {
        "turns": 3,
        "seconds": 15,
        "skus": 1872,
        "limited_skus": 196,
        "ours": ours,
        "oscar": oscar,
    }


def rows_by_target(rows):
    return {row["target"]: row for row in rows}


RATIO = "[1x] placement lines/s ours / Oscar's (10-line orders, in turns)"


def test_lines_per_second_are_the_lines_placed_in_each_window():
    oscar = figures([270, 285, 300], orders=30)

    # 18, 19 and 20 lines/s over the three 15 s windows
    assert oscar["lines_per_s"] == {"median": 19.0, "min": 18.0, "max": 20.0}
    assert oscar["orders_per_s"] == 2.0  # 90 orders in 45 s
    assert oscar["short_lines"] == 45  # 90 orders of 10 lines, 855 lines placed
    assert (oscar["lines"], oscar["queries"], oscar["oversold"]) == (855, 250, 0)


def test_ratio_of_the_median_lines_per_second_against_three():
    oscar = figures([300, 300, 300])  # 20 lines/s

    met = rows_by_target(evaluate(results(peer(figures([900, 60, 960]), oscar)), 1))[RATIO]
    assert (met["ratio"], met["goal"], met["met"]) == (3.0, ">= 3", True)
    missed = rows_by_target(evaluate(results(peer(figures([885] * 3), oscar)), 1))[RATIO]
    assert (missed["ratio"], missed["met"]) == (2.95, False)


def test_an_oversold_record_on_either_side_is_a_missed_target():
    measured = results(peer(figures([900] * 3, oversold=1), figures([300] * 3, oversold=2)))

    rows = rows_by_target(evaluate(measured, 1))

    oscar = rows["[1x] Oscar oversold stock records (count)"]
    assert (oscar["ratio"], oscar["goal"], oscar["met"]) == (2, "<= 0", False)
    ours = rows["[1x] our oversold stock levels beside Oscar (count)"]
    assert (ours["ratio"], ours["met"]) == (1, False)


def test_a_peer_that_could_not_be_built_is_reported_not_raised():
    measured = results({"error": "building bench/oscar/.venv (setup.sh) failed: no network"})

    rows = evaluate(measured, 1)

    assert [row for row in rows if "peer" in row["target"] or "Oscar" in row["target"]] == [
        {
            "target": "[1x] django-oscar peer measured",
            "ratio": "not measured: building bench/oscar/.venv (setup.sh) failed: no network",
            "goal": "measured",
            "met": False,
        }
    ]
    report = markdown(measured, rows, 1)
    assert "django-oscar peer: not measured (building bench/oscar/.venv" in report


def test_report_shows_both_lines_per_second_side_by_side():
    oscar = figures([270, 285, 300], orders=30)
    measured = results(peer(figures([900] * 3, queries=19), oscar))

    report = markdown(measured, evaluate(measured, 1), 1)

    assert "| ours (API) | 60.0 | 60.0-60.0 | 6.0 | 19 | 700.0 | 0 | 0 | 0 |" in report
    assert (
        "| django-oscar (checkout) | 19.0 | 18.0-20.0 | 2.0 | 250 | 700.0 | 45 | 0 | 0 |" in report
    )
    assert f"| {RATIO} | 3.158 | >= 3 | yes |" in report


def test_a_virtualenv_that_cannot_be_built_is_the_result(tmp_path, monkeypatch):
    (tmp_path / "setup.sh").write_text("echo 'pip: no matching distribution' >&2; exit 1\n")
    monkeypatch.setattr(bench_peer, "OSCAR", tmp_path)
    fixture = SimpleNamespace(sku_codes=["SKU-1"], placement_buyers=[("token", "A-1")])

    def never(*args, **kwargs):
        raise AssertionError("nothing is started when the peer cannot be built")

    measured = bench_peer.measure(
        fixture, database="unused", duration=1, runs=1, wrk=never, server=never, server_env={}
    )

    assert measured == {
        "error": "building bench/oscar/.venv (setup.sh) failed: pip: no matching distribution"
    }

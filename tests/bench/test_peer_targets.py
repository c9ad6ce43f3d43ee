"""The django-oscar peer's figures and targets in the bench report (bench/peer.py,
bench/run.py): pure arithmetic on measured figures, no Oscar install or server needed."""

from bench.peer import summary
from bench.run import evaluate, markdown

WRK = {
    "rps": {"median": 20.0, "min": 20.0, "max": 20.0, "spread_pct": 0.0},
    "p50_ms": {"median": 700.0},
    "p95_ms": {"median": 900.0},
    "requests": 100,
    "non_2xx": 0,
    "socket_errors": 0,
}


def oscar_figures(*, lines=950, oversold=0):
    return summary(
        WRK,
        prepared={"skus": 3000, "limited": 300},
        placed={"orders": 100, "lines": lines, "oversold": oversold},
        seconds=5.0,
        queries=285,
    )


def results(oscar, ours_lines_per_s=None):
    # The baselines every run measures, then the parts of a `--only peer[,placement]` run.
    data = {"counts": {}, "bare_django": WRK, "signed_in_frame": WRK, "bare_drf": WRK}
    data["oscar"] = oscar
    if ours_lines_per_s is not None:
        data["placement_random"] = {**WRK, "lines_per_s": {"median": ours_lines_per_s}}
    return {"measured_at": "now", "scale": 1, "x1": data}


def rows_by_target(rows):
    return {row["target"]: row for row in rows}


def test_lines_per_second_count_only_the_lines_oscar_placed():
    figures = oscar_figures(lines=950)

    assert figures["lines_per_s"] == 190.0  # 950 lines written in the 5 s wrk ran
    assert figures["short_lines"] == 50  # of 100 orders of 10 lines
    assert figures["rps"] == WRK["rps"]


def test_ratio_of_ours_to_oscars_lines_per_second_against_three():
    rows = rows_by_target(evaluate(results(oscar_figures(), ours_lines_per_s=570.0), 1))

    ratio = rows["[1x] placement lines/s ours / Oscar's (10-line orders)"]
    assert (ratio["ratio"], ratio["goal"], ratio["met"]) == (3.0, ">= 3", True)
    slower = rows_by_target(evaluate(results(oscar_figures(), ours_lines_per_s=560.0), 1))
    assert slower["[1x] placement lines/s ours / Oscar's (10-line orders)"]["met"] is False


def test_oscar_oversell_is_a_missed_target():
    rows = rows_by_target(evaluate(results(oscar_figures(oversold=2)), 1))

    oversold = rows["[1x] Oscar oversold stock records (count)"]
    assert (oversold["ratio"], oversold["goal"], oversold["met"]) == (2, "<= 0", False)
    # Without our placement measured in the same run there is no ratio to show.
    assert not any("ours / Oscar's" in target for target in rows)


def test_a_peer_that_could_not_be_built_is_reported_not_raised():
    measured = results({"error": "building bench/oscar/.venv (setup.sh) failed: no network"}, 500.0)
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
    measured = results(oscar_figures(), ours_lines_per_s=600.0)

    report = markdown(measured, evaluate(measured, 1), 1)

    assert "| ours (API) | 600.0 | 20.0 |  | 700.0 | 0 |  |" in report
    assert "| django-oscar (checkout) | 190.0 | 20.0 | 285 | 700.0 | 0 | 0 |" in report
    assert "100 orders placed in the 5.0 s wrk ran, 50 lines left out short of stock" in report
    assert (
        "| [1x] placement lines/s ours / Oscar's (10-line orders) | 3.158 | >= 3 | yes |" in report
    )

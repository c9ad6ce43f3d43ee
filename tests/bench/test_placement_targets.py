"""The orders' targets in the bench report (bench/run.py): each order's cost in bare DRF
requests, against the bare DRF view measured in turns with the orders when there is one."""

from bench.run import evaluate


def wrk(rps):
    return {"rps": {"median": rps, "min": rps, "max": rps, "spread_pct": 0.0}}


ONE_LINE = (
    "[1x] placement_random_1 (1 line): bare DRF requests per order (bare DRF req/s / orders/s)"
)


def one_line_ratio(data):
    data = {"counts": {}, "bare_django": wrk(3000), "signed_in_frame": wrk(1500), **data}
    rows = evaluate({"measured_at": "now", "scale": 1, "x1": data}, 1)
    return {row["target"]: row["ratio"] for row in rows}[ONE_LINE]


def test_orders_are_set_against_the_bare_view_measured_in_turns_with_them():
    # the machine slowed after the baselines: the view measured beside the orders says so
    measured = {"bare_drf": wrk(900), "placement_random_1": wrk(200)}
    assert one_line_ratio({**measured, "bare_drf_beside_placement": wrk(600)}) == 3.0


def test_results_from_before_the_view_beside_them_use_the_baselines_own():
    assert one_line_ratio({"bare_drf": wrk(900), "placement_random_1": wrk(200)}) == 4.5

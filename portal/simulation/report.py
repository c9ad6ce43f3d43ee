"""The season's promise report: report.json (figures per promise mode, the goals) and a
self-contained report.html (its charts' library inlined: it opens with no network)."""

import json
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string

from backorders.promise_report import (
    MISS_CAUSES,
    SHARES,
    figure_rows,
    goals_check,
    promise_charts,
)

COLUMNS = (
    ("promises_kept", "Promises kept", "share"),
    ("backorder_promises_kept", "Backorder promises kept", "share"),
    ("slips_told_early", "Slips told before the date passed", "share"),
    ("median_warning_days", "Median days of warning", "number"),
    ("pair_days_past_window", "Pair-days past window", "number"),
    ("pair_days_free_while_waiting", "Pair-days free while backorders wait", "number"),
    ("fill_rate", "Fill rate", "share"),
    ("pairs_cancelled_by_brand", "Pairs cancelled by the brand", "number"),
    ("pairs_not_had_at_placement", "Pairs that could not be had at placement", "number"),
    ("pairs_cancelled_by_store", "Pairs cancelled by the store", "number"),
    ("messages_per_account_week", "Backorder messages per account-week", "number"),
    ("orders_placed", "Orders placed", "number"),
    ("orders_refused", "Orders refused", "number"),
)
assert {key for key, _ in SHARES} <= {key for key, _, _ in COLUMNS}


def report_build(
    *,
    scenario: str,
    seed: int,
    weeks: int,
    stores: int,
    percentile: int,
    season: dict,
    modes: dict[str, dict],
) -> dict:
    return {
        "scenario": scenario,
        "percentile": percentile,
        "seed": seed,
        "weeks": weeks,
        "stores": stores,
        "season": season,
        "modes": modes,
        "goals": {mode: goals_check(figures) for mode, figures in modes.items()},
    }


def comparison_rows(report: dict) -> list[dict]:
    return figure_rows(columns=COLUMNS, modes=report["modes"])


def miss_rows(report: dict) -> list[dict]:
    """Backordered lines that missed the date first promised, by cause, a count per mode."""
    return [
        {"label": label, "values": [f["backorder_misses"][cause] for f in report["modes"].values()]}
        for cause, label in MISS_CAUSES
    ]


def comparison_text(report: dict) -> str:
    """The side-by-side table the command prints."""
    modes = list(report["modes"])
    width = max(len(label) for _, label, _ in COLUMNS)
    lines = [f"{'':{width}}  " + "  ".join(f"{m:>11}" for m in modes)]
    for row in comparison_rows(report):
        lines.append(f"{row['label']:{width}}  " + "  ".join(f"{v:>11}" for v in row["values"]))
    lines.append("Backordered lines that missed the date first promised:")
    for row in miss_rows(report):
        lines.append(
            f"  {row['label']}: "
            + ", ".join(f"{m} {v}" for m, v in zip(modes, row["values"], strict=True))
        )
    lines.append("Orders refused, by reason:")
    for mode, figures in report["modes"].items():
        for reason, count in figures.get("orders_refused_by_reason", {}).items():
            lines.append(f"  {mode} {count}: {reason}")
    for mode, goals in report["goals"].items():
        held = [g for g in goals if g["holds"]]
        lines.append(
            f"{mode}: {len(held)} of {len(goals)} goals hold"
            + "".join(
                f"\n  {'holds' if g['holds'] else 'MISSED'}: {g['label']} "
                f"({g['target']}; measured {g['value']})"
                for g in goals
            )
        )
    return "\n".join(lines)


def report_write(*, report: dict, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / "report.json", out / "report.html"
    json_path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    static = Path(settings.BASE_DIR) / "static"
    html = render_to_string(
        "simulation/report.html",
        {
            "report": report,
            "rows": comparison_rows(report),
            "misses": miss_rows(report),
            "modes": list(report["modes"]),
            "charts": promise_charts(modes=report["modes"]),
            "chart_library": (static / "vendor" / "chart.umd.min.js").read_text(),
            "chart_script": (static / "js" / "charts.js").read_text(),
        },
    )
    html_path.write_text(html)
    return json_path, html_path

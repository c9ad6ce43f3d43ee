"""`make bench`: seed the benchmark databases once (1x and 100x), measure each under
gunicorn, and write bench/results.json and bench/RESULTS.md with every figure next to a
baseline measured in the same run, as a ratio, and each target met or not.

Usage: python bench/run.py [--scale 100] [--duration 10] [--runs 3] [--reseed 1 --reseed 100]
    [--only pages,placement,peer,jobs,documents,season] [--scale-only]

--only measures the baselines and the parts named; --scale-only skips the 1x database
(with --scale 1: only 1x). A partial run prints its targets and writes
bench/results-partial.json, never the committed results.
"""

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv/bin/python")


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def database_url(name):
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def seeded_scale(name):
    """The scale a benchmark database was seeded at, or None if it needs seeding."""
    with psycopg2.connect(database_url("postgres")) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            return None
    conn = psycopg2.connect(database_url(name))
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT to_regclass('bench_meta')")
            if cursor.fetchone()[0] is None:
                return None
            cursor.execute("SELECT scale FROM bench_meta")
            row = cursor.fetchone()
            return row[0] if row else None
    finally:
        conn.close()


def ensure_database(name, scale, *, reseed=False):
    """`name` as seeded at `scale`, fresh for this run: a copy of `name`_seed (seeded
    once, then reused), so what a run writes never reaches the next. Orders piled up by
    earlier runs made every later run's orders slower (the credit position sums the
    account's open orders), and its figures depended on how many runs came before."""
    seed = f"{name}_seed"
    env = {**os.environ, "DATABASE_URL": database_url(seed)}
    if not reseed and seeded_scale(seed) == scale:
        log(f"{seed}: reusing data seeded at scale {scale}")
        _manage(env, "migrate", "--noinput", "-v0")
    else:
        database_seed(seed, scale, env)
    _database_created(name, template=seed)


def database_seed(name, scale, env):
    log(f"{name}: creating and seeding at scale {scale} (once; later runs copy it)")
    _database_created(name)
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "seed_demo", "--scale", str(scale))
    conn = psycopg2.connect(database_url(name))
    with conn, conn.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_meta (scale integer NOT NULL, seeded_at timestamptz)")
        cursor.execute("INSERT INTO bench_meta VALUES (%s, now())", [scale])
    conn.close()
    vacuum = psycopg2.connect(database_url(name))
    vacuum.autocommit = True
    with vacuum.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    vacuum.close()


def _database_created(name, *, template=None):
    """`name` dropped if it exists and created again: empty, or a copy of `template`."""
    copy = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
    conn = psycopg2.connect(database_url("postgres"))
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"{copy}')
    conn.close()


def _manage(env, *arguments):
    subprocess.run([PYTHON, "manage.py", *arguments], cwd=ROOT, env=env, check=True)


PARTS = ("pages", "placement", "peer", "jobs", "documents", "season")
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "portal_bench")


def measure(name, *, duration, runs, jobs, only):
    command = [
        PYTHON,
        str(ROOT / "bench/measure.py"),
        "--database",
        name,
        "--duration",
        str(duration),
        "--runs",
        str(runs),
    ]
    if jobs:
        command.append("--jobs")
    command += ["--only", ",".join(only) or "none"]
    output = subprocess.run(
        command, cwd=ROOT, capture_output=False, stdout=subprocess.PIPE, text=True, check=True
    ).stdout
    return json.loads(output)


SEASON = ["--weeks", "26", "--stores", "200", "--scenario", "turbulent", "--promise", "calibrated"]
SEASON_LIMIT_S = 600  # a full turbulent season within 10 minutes on this 2-core machine


def season_measure():
    """Wall time of one full turbulent season (manage.py simulate_season): it creates,
    migrates and drops its own database beside the benchmark ones."""
    env = {**os.environ, "DATABASE_URL": database_url(f"{DB_PREFIX}_season")}
    command = [PYTHON, "manage.py", "simulate_season", *SEASON, "--out", "var/bench-season"]
    started = time.monotonic()
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return {
        "command": " ".join(["manage.py simulate_season", *SEASON]),
        "seconds": round(time.monotonic() - started, 1),
    }


def ratio(numerator, denominator):
    return round(numerator / denominator, 3) if denominator else None


PAGES = (
    "catalogue_page",
    "style_grid_page",
    "dashboard_page",
    "order_detail_page",
    "backorders_page",
    "invoices_page",
    # added after the first round: claims and cases, credit memos, exports, the faceted
    # catalogue, line sheets (bench/scenarios.py later_pages)
    "catalogue_facets_page",
    "case_list_page",
    "claim_case_page",
    "credit_memos_page",
    "invoice_detail_page",
    "orders_csv_export",
    "backorders_xlsx_export",
    "line_sheet_xlsx",
)
# API endpoints, each against the bare DRF view
API_ENDPOINTS = (
    "catalogue_api",
    "catalogue_facets_api",
    "claims_api",
    "credit_memos_api",
    "backorders_api",
)
# (scenario, lines per order, most bare DRF requests one order may cost)
PLACEMENT_GOALS = (
    ("placement_random", 10, 5),
    ("placement_random_1", 1, 3),
    ("placement_hot", 1, 3),
)


def rps(data, name):
    return data[name]["rps"]["median"] if name in data else None


def _placement_baseline(data):
    """The bare DRF view measured in turns with the orders (bench.scenarios.placement);
    results from before it have only the baselines' own."""
    return rps(data, "bare_drf_beside_placement") or rps(data, "bare_drf")


def peer_targets(rows, label, data, target):
    """django-oscar beside the portal: ours / Oscar's lines/s on the same 10-line orders,
    measured in turns, and each side's oversold stock rows; a peer that could not be
    measured is a missed row that says why."""
    peer = data["peer"]
    if "error" in peer:
        rows.append(
            {
                "target": f"[{label}] django-oscar peer measured",
                "ratio": f"not measured: {peer['error']}",
                "goal": "measured",
                "met": False,
            }
        )
        return
    ours, oscar = peer["ours"], peer["oscar"]
    target(
        f"[{label}] placement lines/s ours / Oscar's (10-line orders, in turns)",
        ratio(ours["lines_per_s"]["median"], oscar["lines_per_s"]["median"]),
        3,
    )
    target(f"[{label}] Oscar oversold stock records (count)", oscar["oversold"], 0, False)
    target(f"[{label}] our oversold stock levels beside Oscar (count)", ours["oversold"], 0, False)


def evaluate(results, scale):
    """Each target from the performance issues as (name, measured ratio, target, met);
    a part not measured in this run (--only) is left out."""
    rows = []

    def target(name, value, goal, higher_is_better=True):
        if value is None:
            return
        met = value >= goal if higher_is_better else value <= goal
        rows.append(
            {
                "target": name,
                "ratio": value,
                "goal": (">= " if higher_is_better else "<= ") + str(goal),
                "met": met,
            }
        )

    scales = [(f"{scale}x", results[f"x{scale}"])] if f"x{scale}" in results else []
    if scale != 1 and "x1" in results:
        scales.append(("1x", results["x1"]))
    for label, data in scales:
        frame = rps(data, "signed_in_frame")
        target(
            f"[{label}] signed-in frame req/s / bare Django req/s",
            ratio(frame, rps(data, "bare_django")),
            0.3,
        )
        for page in PAGES:
            if page in data:
                target(
                    f"[{label}] {page} req/s / signed-in frame req/s",
                    ratio(rps(data, page), frame),
                    0.5,
                )
        for endpoint in API_ENDPOINTS:
            if endpoint in data:
                target(
                    f"[{label}] {endpoint} req/s / bare DRF req/s",
                    ratio(rps(data, endpoint), rps(data, "bare_drf")),
                    0.5,
                )
        for name, lines, most in PLACEMENT_GOALS:
            if name in data:
                target(
                    f"[{label}] {name} ({lines} line{'s' if lines > 1 else ''}): "
                    "bare DRF requests per order (bare DRF req/s / orders/s)",
                    ratio(_placement_baseline(data), rps(data, name)),
                    most,
                    False,
                )
        if "audit" in data:
            target(
                f"[{label}] invariant violations after placement (count)",
                sum(data["audit"].values()),
                0,
                False,
            )
        if "peer" in data:
            peer_targets(rows, label, data, target)
    big, small = results.get(f"x{scale}", {}), results.get("x1", {})
    if scale != 1:
        for name in (*API_ENDPOINTS, *PAGES):
            if name in big and name in small:
                target(
                    f"cost per request {scale}x / 1x: {name} (1x req/s / {scale}x req/s)",
                    ratio(rps(small, name), rps(big, name)),
                    1.5,
                    False,
                )
        if "placement_random" in big and "placement_random" in small:
            target(
                f"cost per line {scale}x / 1x: placement (1x lines/s / {scale}x lines/s)",
                ratio(
                    small["placement_random"]["lines_per_s"]["median"],
                    big["placement_random"]["lines_per_s"]["median"],
                ),
                1.5,
                False,
            )
    for job in ("sweep", "eta_change"):
        if job in big:
            target(
                f"{job} rows/s / raw SQL rows/s",
                ratio(big[job]["rows_per_s"], big[job]["raw_rows_per_s"]),
                0.3,
            )
    if "pdf" in big:
        pdf = big["pdf"]
        target(
            "invoice PDF 1 page render time / bare WeasyPrint time",
            ratio(pdf["invoice_1_page"]["median_s"], pdf["bare_weasyprint_1_page"]["median_s"]),
            1.5,
            False,
        )
        target(
            "invoice PDF 10 pages render time / bare WeasyPrint time",
            ratio(pdf["invoice_10_pages"]["median_s"], pdf["bare_weasyprint_10_pages"]["median_s"]),
            1.0,
            False,
        )
        target(
            "issued invoice PDF download req/s / bare Django req/s",
            ratio(rps(big, "pdf_download"), rps(big, "bare_django")),
            0.5,
        )
    if "season" in results:
        target(
            f"full turbulent season seconds / {SEASON_LIMIT_S} s",
            ratio(results["season"]["seconds"], SEASON_LIMIT_S),
            1.0,
            False,
        )
    return rows


def peer_figures(data):
    """The peer's figures under a scale's: both placements of the same 10-line orders."""
    peer = data["peer"]
    if "error" in peer:
        return f"\ndjango-oscar peer: not measured ({peer['error']})"
    rows = [
        "",
        f"Placement beside django-oscar, {peer['turns']} turn(s) of {peer['seconds']} s each:",
        "",
        "| 10-line orders, random SKUs | lines/s (median) | min-max | orders/s | queries/order "
        "| p50 ms | short lines | non-2xx | oversold |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, figures in (("ours (API)", peer["ours"]), ("django-oscar (checkout)", peer["oscar"])):
        rate = figures["lines_per_s"]
        rows.append(
            f"| {name} | {rate['median']} | {rate['min']}-{rate['max']} | "
            f"{figures['orders_per_s']} | {figures['queries']} | {figures['p50_ms']} | "
            f"{figures['short_lines']} | {figures['non_2xx']} | {figures['oversold']} |"
        )
    rows += [
        "",
        f"Oscar's catalogue: {peer['skus']} products, {peer['limited_skus']} of their stock "
        "records limited to 0-4 units (a short line is left out of Oscar's basket; ours "
        "backorders it).",
    ]
    return "\n".join(rows)


def markdown(results, rows, scale):
    lines = [
        "# Benchmark results",
        "",
        f"Measured {results['measured_at']} on this machine (2 cores); `make bench` reproduces it.",
        "Every figure is the median of several runs next to a baseline from the same run.",
        "",
        "## Targets",
        "",
        "| target | ratio | goal | met |",
        "| --- | ---: | --- | --- |",
    ]
    for row in rows:
        met = "yes" if row["met"] else "**no**"
        lines.append(f"| {row['target']} | {row['ratio']} | {row['goal']} | {met} |")
    for label in dict.fromkeys((f"x{scale}", "x1")):
        if label not in results:
            continue
        data = results[label]
        lines += [
            "",
            f"## Figures at {label[1:]}x",
            "",
            f"Data: {data['counts']}",
            "",
            "| scenario | req/s (median) | spread | p50 ms | p95 ms | queries/request | non-2xx |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name in (
            "bare_django",
            "signed_in_frame",
            "bare_drf",
            *API_ENDPOINTS,
            "bare_drf_beside_placement",
            *PAGES,
            *(name for name, _, _ in PLACEMENT_GOALS),
            "pdf_download",
        ):
            if name in data:
                row = data[name]
                lines.append(
                    f"| {name} | {row['rps']['median']} | {row['rps']['spread_pct']}% | "
                    f"{row['p50_ms']['median']} | {row['p95_ms']['median']} | "
                    f"{row.get('queries', '')} | {row['non_2xx']} |"
                )
        for name, _, _ in PLACEMENT_GOALS:
            if name in data:
                lines.append(f"\n{name}: {data[name]['lines_per_s']['median']} lines/s")
        if "peer" in data:
            lines.append(peer_figures(data))
        for name in ("reserve_random", "reserve_hot"):
            if name in data:
                lines.append(
                    f"\n{name} (pgbench): {data[name]['tps']['median']} TPS, "
                    f"spread {data[name]['tps']['spread_pct']}%"
                )
        if "audit" in data:
            lines.append(f"\nInvariant audit after the run: {data['audit']}")
        for job in ("sweep", "eta_change", "pdf"):
            if job in data:
                lines.append(f"\n{job}: `{json.dumps(data[job])}`")
    if "season" in results:
        season = results["season"]
        lines.append(f"\n## Season simulator\n\n`{season['command']}`: {season['seconds']} s")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--reseed",
        type=int,
        action="append",
        default=[],
        metavar="SCALE",
        help="seed this scale's database again (after seed_demo changed); repeatable",
    )
    parser.add_argument("--only", default=",".join(PARTS), help=", ".join(PARTS))
    parser.add_argument("--scale-only", action="store_true", help="skip the 1x database")
    args = parser.parse_args()
    only = args.only.split(",")
    partial = args.scale_only or set(only) != set(PARTS)

    results = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
    }
    for scale in sorted({args.scale} if args.scale_only else {1, args.scale}):
        name = f"{DB_PREFIX}_x{scale}"
        ensure_database(name, scale, reseed=scale in args.reseed)
        log(f"measuring {name}")
        results[f"x{scale}"] = measure(
            name,
            duration=args.duration,
            runs=args.runs,
            jobs=scale == args.scale,
            only=[part for part in only if part != "season"],
        )
    if "season" in only:
        log("measuring a full turbulent season (simulate_season)")
        results["season"] = season_measure()
    rows = evaluate(results, args.scale)
    results["targets"] = rows
    if partial:
        (ROOT / "bench/results-partial.json").write_text(
            json.dumps(results, indent=2, default=str) + "\n"
        )
        log("partial run: wrote bench/results-partial.json")
    else:
        (ROOT / "bench/results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
        (ROOT / "bench/RESULTS.md").write_text(markdown(results, rows, args.scale))
        log("wrote bench/results.json and bench/RESULTS.md")
    for row in rows:
        log(f"{'ok  ' if row['met'] else 'MISS'} {row['target']}: {row['ratio']} ({row['goal']})")
    for label in dict.fromkeys(("x1", f"x{args.scale}")):
        if "peer" in results.get(label, {}):
            log(f"[{label[1:]}x]{peer_figures(results[label])}")


if __name__ == "__main__":
    main()

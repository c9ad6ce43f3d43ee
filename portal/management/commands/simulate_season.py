"""Run a season on a simulated clock in a database of its own and write the promise
report (report.json, report.html) comparing naive and calibrated promise dates."""

import datetime as dt
import multiprocessing
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import connections
from tqdm import tqdm

from portal.simulation.cost import CostMeter
from portal.simulation.database import throwaway_database
from portal.simulation.report import comparison_text, report_build, report_write
from portal.simulation.scenarios import SCENARIOS
from portal.simulation.season import season_settings, season_simulate
from portal.simulation.world import SEASON_START

# Simulated days, without rates: the clock the bar would read is the simulated one.
PROGRESS_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| day {n_fmt} of {total_fmt}"


def mode_season(
    *, mode, scenario, seed, weeks, stores, percentile, position, quiet, cost
) -> tuple[dict, list[str]]:
    """One promise mode's season, in a database of its own: its figures, and what it
    cost (statements and CPU per store-week, with --cost)."""
    meter = CostMeter() if cost else None
    with (
        throwaway_database(label=mode),
        tqdm(
            total=weeks * 7,
            desc=f"{scenario} season, {mode} promises",
            bar_format=PROGRESS_FORMAT,
            position=position,
            disable=quiet,
        ) as progress,
    ):
        figures = season_simulate(
            seed=seed,
            scenario=SCENARIOS[scenario],
            weeks=weeks,
            stores=stores,
            percentile=percentile if mode == "calibrated" else 0,
            progress=progress,
            meter=meter,
        )
    return figures, meter.lines(store_weeks=weeks * stores) if meter else []


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--weeks", type=int, default=26)
        parser.add_argument("--stores", type=int, default=200)
        parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="turbulent")
        parser.add_argument("--promise", choices=("naive", "calibrated", "both"), default="both")
        parser.add_argument("--out", type=Path, default=Path("var/season"))
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--percentile",
            type=int,
            default=90,
            help="The calibrated terms' promise slip percentile (default 90, as the terms).",
        )
        parser.add_argument(
            "--cost",
            action="store_true",
            help="Also print SQL statements and CPU seconds per store-week, by phase.",
        )

    def handle(
        self, *args, weeks, stores, scenario, promise, out, seed, percentile, cost, **options
    ):
        if weeks < 1 or stores < 1:
            self.stderr.write("--weeks and --stores must be at least 1.")
            raise SystemExit(2)
        if not 1 <= percentile <= 100:
            self.stderr.write("--percentile must be from 1 to 100.")
            raise SystemExit(2)
        # A stopped run still drops its database (the context managers' exits run).
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        season_settings()
        runs = ("naive", "calibrated") if promise == "both" else (promise,)
        arguments = {
            "scenario": scenario,
            "seed": seed,
            "weeks": weeks,
            "stores": stores,
            "percentile": percentile,
            "quiet": options["verbosity"] == 0,
            "cost": cost,
        }
        if len(runs) == 1:
            results = {promise: mode_season(mode=promise, position=0, **arguments)}
        else:
            # Both modes at once, a process and a database each (the machine's two cores).
            connections.close_all()
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=len(runs), mp_context=context) as pool:
                futures = {
                    mode: pool.submit(mode_season, mode=mode, position=index, **arguments)
                    for index, mode in enumerate(runs)
                }
                results = {mode: future.result() for mode, future in futures.items()}
        modes = {mode: figures for mode, (figures, _) in results.items()}
        season = {
            "start": SEASON_START.isoformat(),
            "end": (SEASON_START + dt.timedelta(days=weeks * 7 - 1)).isoformat(),
        }
        report = report_build(
            scenario=scenario,
            seed=seed,
            weeks=weeks,
            stores=stores,
            percentile=percentile,
            season=season,
            modes=modes,
        )
        json_path, html_path = report_write(report=report, out=out)
        self.stdout.write(comparison_text(report))
        self.stdout.write(f"Report: {json_path} and {html_path}")
        for mode, (_, cost_lines) in results.items():
            if cost_lines:
                self.stdout.write(f"What the {mode} season cost:\n" + "\n".join(cost_lines))

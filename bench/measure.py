"""Measure one benchmark database: HTTP pages and API under gunicorn, placement, the
pgbench-style reserve-stock baseline, and (optionally) batch jobs and PDFs in-process.
Prints one JSON object. Run by bench/run.py, which compares scales and writes the report.

Usage: python bench/measure.py --database portal_bench_x1 [--duration 10] [--runs 3] [--jobs]
    [--only pages,placement,peer,jobs,documents]
"""

import argparse
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
# Several checkouts may measure at once: each sets its own port (and BENCH_DB_PREFIX).
PORT = int(os.environ.get("BENCH_PORT", "8765"))
BASE_URL = f"http://127.0.0.1:{PORT}"
CONNECTIONS = 16
WARM_UP_S = 2
PARTS = ("pages", "placement", "peer", "jobs", "documents")


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def summarize(samples, key):
    values = [sample[key] for sample in samples]
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
        "spread_pct": round(100 * (max(values) - min(values)) / statistics.median(values), 1)
        if statistics.median(values)
        else 0.0,
    }


def wrk_sample(path, *, duration, headers=(), script="report.lua", env=None):
    """One wrk run: its req/s, latency percentiles and counts."""
    command = [
        "wrk",
        "-t2",
        f"-c{CONNECTIONS}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / "wrk" / script),
    ]
    for header in headers:
        command += ["-H", header]
    command.append(BASE_URL + path)
    output = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "REPORT_LUA": str(BENCH / "wrk" / "report.lua"), **(env or {})},
    ).stdout
    match = re.search(r"WRK_JSON (\{.*\})", output)
    if not match:
        raise RuntimeError(f"wrk printed no summary for {path}:\n{output}")
    return json.loads(match.group(1))


def wrk_summary(samples):
    """Median/spread of req/s and latency percentiles over wrk runs, counts added up."""
    return {
        "rps": summarize(samples, "rps"),
        "p50_ms": summarize(samples, "p50_ms"),
        "p95_ms": summarize(samples, "p95_ms"),
        "requests": sum(sample["requests"] for sample in samples),
        "non_2xx": sum(sample["non_2xx"] for sample in samples),
        "socket_errors": sum(sample["socket_errors"] for sample in samples),
    }


def wrk(path, *, duration, runs, headers=(), script="report.lua", env=None):
    """Run wrk `runs` times; return median/spread of req/s and latency percentiles."""
    return wrk_summary(
        [
            wrk_sample(path, duration=duration, headers=headers, script=script, env=env)
            for _ in range(runs)
        ]
    )


def wrk_in_turns(scenarios, *, duration, runs):
    """Each of `scenarios` ({name: (path, headers)}, or {name: wrk_sample's arguments})
    run once in turn, `runs` times over (a, b, c, a, b, c, ...), so the machine's drift
    falls on all of them alike rather than on whichever was measured while it lasted."""
    samples = {name: [] for name in scenarios}
    for _ in range(runs):
        for name, scenario in scenarios.items():
            if not isinstance(scenario, dict):
                path, headers = scenario
                scenario = {"path": path, "headers": headers}
            samples[name].append(wrk_sample(duration=duration, **scenario))
    return {name: wrk_summary(taken) for name, taken in samples.items()}


def server_warm(scenarios):
    """A burst of each baseline, unmeasured, then a pause for the requests still in
    flight: every worker thread has opened its Redis and database connections and run
    each path before anything is measured, as in a server that has been up a while."""
    for path, headers in scenarios.values():
        wrk_sample(path, duration=WARM_UP_S, headers=headers)
    time.sleep(1)


class Server:
    """gunicorn with persistent database connections, as in production (the portal's, or
    with another gunicorn, app and directory the django-oscar peer's, started alike)."""

    def __init__(
        self,
        env,
        *,
        gunicorn=ROOT / ".venv/bin/gunicorn",
        app="portal.wsgi",
        cwd=ROOT,
        preload=False,
    ):
        self.env = env
        self.command = (str(gunicorn), app)
        self.cwd = cwd
        self.preload = preload
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(
            [
                *self.command,
                "--bind",
                f"127.0.0.1:{PORT}",
                "--workers",
                "4",
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                "--log-level",
                "warning",
                # Loaded once (portal.warm) and forked: every worker answers from the start.
                *(["--preload"] if self.preload else []),
            ],
            cwd=self.cwd,
            env=self.env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(BASE_URL + "/bench/bare/", timeout=2)
                return self
            except OSError:
                time.sleep(0.5)
        self.__exit__()  # nothing left holding the port: the peer's failure lets the run go on
        raise RuntimeError(f"gunicorn did not start ({self.command[1]})")

    def __exit__(self, *exc):
        with contextlib.suppress(ProcessLookupError):  # it may have died on its own
            os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


def pgbench_reserve(*, database, min_id, max_id, duration, runs):
    """TPS of the reserve-stock transaction (lock, conditional update, insert)."""
    samples = []
    for _ in range(runs):
        output = subprocess.run(
            [
                "pgbench",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-n",
                "-c",
                str(CONNECTIONS),
                "-j",
                "2",
                "-T",
                str(duration),
                "-D",
                f"min_id={min_id}",
                "-D",
                f"max_id={max_id}",
                "-f",
                str(BENCH / "pgbench" / "reserve.sql"),
                database,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        tps = float(re.search(r"tps = ([\d.]+)", output).group(1))
        latency = float(re.search(r"latency average = ([\d.]+) ms", output).group(1))
        samples.append({"tps": tps, "latency_ms": latency})
    return {"tps": summarize(samples, "tps"), "latency_ms": summarize(samples, "latency_ms")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", action="store_true", help="also batch jobs and PDFs")
    parser.add_argument(
        "--only",
        default=",".join(PARTS),
        help="comma-separated parts to measure besides the baselines: " + ", ".join(PARTS),
    )
    args = parser.parse_args()
    only = set(args.only.split(","))

    database_url = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    os.environ.update(
        DATABASE_URL=database_url,
        BENCH_VIEWS="1",
        API_THROTTLE_RATE="100000000/second",
        CONN_MAX_AGE="600",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="portal.settings",
        CELERY_BROKER_URL=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/12"),
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from bench import scenarios

    fixture = scenarios.prepare(database=args.database)
    results = {"database": args.database, "counts": fixture.counts}
    media_dir = tempfile.mkdtemp(prefix="bench-media-")
    server_env = {**os.environ, "MEDIA_ROOT": fixture.media_root or media_dir}
    baselines = {
        "bare_django": ("/bench/bare/", ()),
        "signed_in_frame": ("/bench/signed-in/", fixture.session_headers),
        "bare_drf": ("/bench/bare-drf/", fixture.api_headers),
    }
    with Server(server_env, preload=True):
        server_warm(baselines)
        log("baselines")
        results.update(wrk_in_turns(baselines, duration=args.duration, runs=args.runs))
        results["signed_in_frame"]["queries"] = scenarios.queries_per_request(
            "/bench/signed-in/", fixture, "html"
        )
        for name, path, kind in fixture.pages if "pages" in only else ():
            log(f"page {name}")
            headers = fixture.api_headers if kind == "api" else fixture.session_headers
            # Read again and again, a page is a cache hit: its first render (the catalogue's
            # facet counts take seconds at 100x) is paid before it is measured, not inside.
            server_warm({name: (path, headers)})
            results[name] = wrk(path, duration=args.duration, runs=args.runs, headers=headers)
            results[name]["queries"] = scenarios.queries_per_request(path, fixture, kind)
        if "placement" in only:
            log("placement")
            results.update(
                scenarios.placement(
                    fixture, duration=args.duration, runs=args.runs, in_turns=wrk_in_turns
                )
            )
    if "placement" in only:
        results.update(_reserve_baselines(fixture, args))
    if "peer" in only:
        log("ours and django-oscar's placement in turns (peer)")
        from bench import peer

        results["peer"] = peer.measure(
            fixture,
            database=os.environ.get("BENCH_DB_PREFIX", "portal_bench") + "_oscar",
            duration=args.duration,
            runs=args.runs,
            wrk=wrk,
            server=Server,
            server_env=server_env,
        )
        if "error" in results["peer"]:
            log(f"django-oscar peer not measured: {results['peer']['error']}")
    from bench.explain import explain_pages

    if "pages" in only and "placement" in only:
        results["explain"] = explain_pages(fixture, database=args.database)
    if args.jobs and "jobs" in only:
        log("batch jobs")
        jobs = scenarios.jobs(database=args.database, runs=args.runs)
        results["explain"] = results.get("explain", []) + jobs.pop("explain")
        results.update(jobs)
    if args.jobs and "documents" in only:
        log("documents")
        with Server(server_env, preload=True):
            results.update(
                scenarios.documents(fixture, duration=args.duration, runs=args.runs, wrk=wrk)
            )
    print(json.dumps(results, indent=2, default=str))


def _reserve_baselines(fixture, args) -> dict:
    """pgbench's reserve-stock TPS (random levels, one hot level), and the invariant audit
    after the placements."""
    log("reserve-stock baseline")
    results = {}
    results["reserve_random"] = pgbench_reserve(
        database=args.database,
        min_id=fixture.level_min_id,
        max_id=fixture.level_max_id,
        duration=args.duration,
        runs=args.runs,
    )
    results["reserve_hot"] = pgbench_reserve(
        database=args.database,
        min_id=fixture.hot_level_id,
        max_id=fixture.hot_level_id,
        duration=args.duration,
        runs=args.runs,
    )
    from bench import scenarios

    results["audit"] = scenarios.invariant_audit()
    return results


if __name__ == "__main__":
    main()

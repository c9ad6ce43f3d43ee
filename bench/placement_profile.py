"""An API order's cost in-process: CPU ms and statements per order (1 and 10 random lines,
1 line of a hot SKU) beside the bare DRF view timed in the same loop, and optionally a
cProfile of the orders. Steadier than wrk on a shared machine: CPU time is the process's
own, whatever else runs.

Usage (a copy of a bench database; orders are placed in it):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> CELERY_BROKER_URL=redis://... \
    python bench/placement_profile.py [--orders 100] [--profile 10|1|hot] [--top 40]
"""

import argparse
import cProfile
import io
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100, help="orders of each kind")
    parser.add_argument("--profile", choices=["10", "1", "hot"], help="cProfile these orders")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--callers", help="also print the callers of functions matching this")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument(
        "--cpu", action="store_true", help="profile this process's CPU time, not wall time"
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.update(BENCH_VIEWS="1", API_THROTTLE_RATE="100000000/second", CONN_MAX_AGE="600")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from rest_framework.test import APIClient

    from bench import scenarios

    fixture = scenarios.prepare(database=connection.settings_dict["NAME"])
    rng = random.Random(7)
    clients = []
    for token, account in fixture.placement_buyers:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        clients.append((client, account))
    bare = APIClient()
    bare.credentials(HTTP_AUTHORIZATION=f"Token {fixture.placement_token}")
    counter = [0]

    def place(lines, codes, quantity):
        client, account = rng.choice(clients)
        counter[0] += 1
        key = f"profile-{os.getpid()}-{time.time_ns()}-{counter[0]}"
        body = {
            "account": account,
            "po_number": key.upper()[:40],
            "backorders": "allow",
            "lines": [{"sku": code, "quantity": quantity} for code in rng.sample(codes, lines)],
        }
        response = client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert response.status_code == 201, response.content

    def bare_drf():
        response = bare.get("/bench/bare-drf/")
        assert response.status_code == 200

    kinds = {
        "10": lambda: place(10, fixture.sku_codes, 1),
        "1": lambda: place(1, fixture.sku_codes, 6),
        "hot": lambda: place(1, [fixture.hot_sku_code], 6),
    }
    for _ in range(5):  # warm: compiled reads, connections, imports
        bare_drf()
        for kind in kinds.values():
            kind()
    for client, _ in clients:  # each client's handler loads the middleware once
        client.get("/bench/bare-drf/")

    if args.profile:
        profiler = cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()
        profiler.enable()
        for _ in range(args.orders):
            kinds[args.profile]()
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(args.sort).print_stats(args.top)
        if args.callers:
            stats.print_callers(args.callers)
        print(out.getvalue())
        return

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    ticks = os.sysconf("SC_CLK_TCK")

    def backend_ms() -> float:
        """CPU ms the PostgreSQL backend serving this process has used (user + system)."""
        with open(f"/proc/{backend}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / ticks

    def cpu_ms(function, n):
        """Median CPU ms of this process, wall ms over n calls, and the PostgreSQL
        backend's CPU ms a call (a mean: the kernel counts it in clock ticks)."""
        cpu, wall = [], []
        backend_start = backend_ms()
        for _ in range(n):
            start, start_wall = time.process_time(), time.perf_counter()
            function()
            cpu.append((time.process_time() - start) * 1000)
            wall.append((time.perf_counter() - start_wall) * 1000)
        return (
            statistics.median(cpu),
            statistics.median(wall),
            (backend_ms() - backend_start) / n,
        )

    with scenarios.counted_queries() as executed:
        kinds["1"]()
    one_line = len(executed)
    with scenarios.counted_queries() as executed:
        kinds["10"]()
    ten_lines = len(executed)
    figures = {"bare": [], "10": [], "1": [], "hot": []}
    for _ in range(max(1, args.orders // 10)):  # in turns, so drift falls on all alike
        figures["bare"].append(cpu_ms(bare_drf, 10))
        for name, kind in kinds.items():
            figures[name].append(cpu_ms(kind, 10))

    def medians(name):
        return (
            statistics.median(cpu for cpu, _, _ in figures[name]),
            statistics.median(wall for _, wall, _ in figures[name]),
            statistics.mean(database for _, _, database in figures[name]),
        )

    bare_cpu, bare_wall, bare_database = medians("bare")
    print(f"statements an order: 1 line {one_line}, 10 lines {ten_lines}")
    print(
        f"bare DRF: {bare_cpu:.2f} ms CPU, {bare_database:.2f} ms PostgreSQL CPU, "
        f"{bare_wall:.2f} ms wall"
    )
    for name in ("10", "1", "hot"):
        cpu, wall, database = medians(name)
        print(
            f"{name:>3} line(s): {cpu:.2f} ms CPU ({cpu / bare_cpu:.2f} bare DRF), "
            f"{database:.2f} ms PostgreSQL CPU, together "
            f"{(cpu + database) / (bare_cpu + bare_database):.2f} bare DRF; "
            f"{wall:.2f} ms wall ({wall / bare_wall:.2f} bare DRF)"
        )


if __name__ == "__main__":
    main()

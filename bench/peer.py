"""django-oscar's order placement, measured beside the portal's (`--only peer`): its own
virtualenv and settings (bench/oscar), its own database on the same PostgreSQL, the same
gunicorn (workers, threads, persistent connections), the same wrk script and connections
posting the same 10-line orders on the same SKUs, both sides in turns and counted the
same way, and an oversell count of each after the run. Anything that keeps Oscar from
running is reported as the result, never raised."""

import datetime as dt
import json
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

import psycopg2

OSCAR = Path(__file__).resolve().parent / "oscar"
LINES = 10  # as placement_random
# On this 2-core machine an Oscar order takes seconds under 16 connections: a window
# shorter than a few of them would count the orders that happen to finish inside it.
WARM_UP_S = 5
MIN_DURATION_S = 15


class PeerUnavailable(Exception):
    pass


def _run(command, *, env, what):
    done = subprocess.run(command, cwd=OSCAR, env=env, capture_output=True, text=True)
    if done.returncode:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise PeerUnavailable(f"{what} failed: {' / '.join(tail)}")
    return done.stdout


def _manage(*args, env, what):
    return _run([str(OSCAR / ".venv/bin/python"), "manage.py", *args], env=env, what=what)


def _ensure_database(name):
    conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def _placement_files(codes, buyers):
    """The SKU list and the buyers ("token account" lines) place.lua reads."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as skus:
        skus.write("\n".join(codes))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(f"{token} {account}" for token, account in buyers))
    return {"SKU_FILE": skus.name, "BUYERS_FILE": handle.name, "LINES": str(LINES), "QUANTITY": "1"}


def _turn(serve, wrk, path, place, seconds):
    """One side's turn: its gunicorn started, warmed by WARM_UP_S of orders (each worker
    loads its classes and templates on its first), then measured for `seconds`."""
    with serve():
        wrk(path, duration=WARM_UP_S, runs=1, script="place.lua", env=place)
        started = dt.datetime.now(dt.UTC)
        measured = wrk(path, duration=seconds, runs=1, script="place.lua", env=place)
        ended = dt.datetime.now(dt.UTC)
    return measured, started, ended


def _ours_placed(started, ended):
    from orders.models import Order, OrderLine

    orders = Order.objects.filter(placed_at__gte=started, placed_at__lt=ended)
    return {"orders": orders.count(), "lines": OrderLine.objects.filter(order__in=orders).count()}


def _oscar(fixture, env):
    """Oscar's virtualenv, database, catalogue and buyers made ready; its wrk environment."""
    _run(["sh", "setup.sh"], env=env, what="building bench/oscar/.venv (setup.sh)")
    _ensure_database(env["OSCAR_DATABASE"])
    _manage("migrate", "--noinput", "-v0", env=env, what="migrating the Oscar database")
    place = _placement_files(fixture.sku_codes, [])
    prepared = json.loads(
        _manage(
            "peer_prepare",
            "--skus-file",
            place["SKU_FILE"],
            "--buyers",
            str(len(fixture.placement_buyers)),
            "--buyers-out",
            place["BUYERS_FILE"],
            env=env,
            what="seeding Oscar's products and stock",
        )
    )
    session = Path(place["BUYERS_FILE"]).read_text().split()[0]
    prepared["queries"] = int(
        _manage("peer_queries", "--session", session, env=env, what="counting Oscar's queries")
    )
    place.update(PLACE_PATH="/place/", AUTH_HEADER="Cookie", AUTH_PREFIX="sessionid=")
    return place, prepared


def measure(fixture, *, database, duration, runs, wrk, server, server_env):
    """Ours and Oscar placing the same 10-line orders, in turns (`runs` of each, ours then
    Oscar's, so the shared machine's drift falls on both alike): {ours, oscar, ...}, or
    {error} saying why Oscar could not be measured. `server(env, gunicorn=, app=, cwd=)`
    starts gunicorn as the portal's bench does (`server(server_env)`: ours)."""
    from bench import scenarios

    env = {**os.environ, "OSCAR_DATABASE": database, "DJANGO_SETTINGS_MODULE": "peer.settings"}
    seconds = max(duration, MIN_DURATION_S)
    ours_place = _placement_files(fixture.sku_codes, fixture.placement_buyers)
    turns = {"ours": [], "oscar": []}
    try:
        oscar_place, prepared = _oscar(fixture, env)
        for _ in range(runs):
            measured, started, ended = _turn(
                lambda: server(server_env), wrk, "/api/v1/orders/", ours_place, seconds
            )
            turns["ours"].append((measured, _ours_placed(started, ended), ended - started))
            measured, started, ended = _turn(
                lambda: server(
                    env, gunicorn=OSCAR / ".venv/bin/gunicorn", app="peer.wsgi", cwd=OSCAR
                ),
                wrk,
                "/place/",
                oscar_place,
                seconds,
            )
            window = ("--since", started.isoformat(), "--until", ended.isoformat())
            placed = json.loads(_manage("peer_audit", *window, env=env, what="auditing Oscar"))
            turns["oscar"].append((measured, placed, ended - started))
    except (
        PeerUnavailable,
        OSError,
        psycopg2.Error,
        RuntimeError,
        ValueError,
        subprocess.CalledProcessError,
    ) as error:
        return {"error": str(error)}
    if not all(placed["orders"] for _, placed, _ in turns["oscar"]):
        return {"error": f"an Oscar turn placed no order in {seconds} s (gunicorn's log above)"}
    audit = scenarios.invariant_audit()
    return {
        "turns": runs,
        "seconds": seconds,
        "skus": prepared["skus"],
        "limited_skus": prepared["limited"],
        "ours": side(
            turns["ours"],
            queries=scenarios.placement_queries(fixture),
            oversold=audit["stock_allocated_outside_0_and_on_hand"],
        ),
        "oscar": side(
            turns["oscar"], queries=prepared["queries"], oversold=turns["oscar"][-1][1]["oversold"]
        ),
    }


def side(turns, *, queries, oversold):
    """One side's figures over its turns. Lines placed per second are the order lines its
    database holds with a placing time inside the wrk window, over that window (an Oscar
    order takes seconds here: wrk's own count of the few requests each connection
    completes would be too coarse). A line Oscar leaves out for want of stock counts as
    short; ours backorders it, so ours has none."""
    rates = [placed["lines"] / window.total_seconds() for _, placed, window in turns]
    orders = sum(placed["orders"] for _, placed, _ in turns)
    lines = sum(placed["lines"] for _, placed, _ in turns)
    seconds = sum(window.total_seconds() for _, _, window in turns)
    return {
        "lines_per_s": {
            "median": round(statistics.median(rates), 2),
            "min": round(min(rates), 2),
            "max": round(max(rates), 2),
        },
        "orders_per_s": round(orders / seconds, 2),
        "orders": orders,
        "lines": lines,
        "short_lines": orders * LINES - lines,
        "p50_ms": round(statistics.median(m["p50_ms"]["median"] for m, _, _ in turns), 1),
        "non_2xx": sum(m["non_2xx"] for m, _, _ in turns),
        "socket_errors": sum(m["socket_errors"] for m, _, _ in turns),
        "queries": queries,
        "oversold": oversold,
    }

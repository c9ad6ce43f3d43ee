"""django-oscar's order placement, measured beside the portal's (`--only peer`): its own
virtualenv and settings (bench/oscar), its own database on the same PostgreSQL, the same
gunicorn (workers, threads, persistent connections), the same wrk script and connections
posting the same 10-line orders on the same SKUs, and an oversell count after the run.
Anything that keeps it from running is reported as the result, never raised."""

import datetime as dt
import json
import os
import subprocess
import tempfile
from pathlib import Path

import psycopg2

OSCAR = Path(__file__).resolve().parent / "oscar"
OSCAR_PYTHON = OSCAR / ".venv/bin/python"
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
    return _run([str(OSCAR_PYTHON), "manage.py", *args], env=env, what=what)


def _ensure_database(name):
    conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def measure(fixture, *, database, duration, runs, wrk, server):
    """{lines_per_s, oversold, ...} of Oscar placing 10-line orders on the portal's placement
    SKUs, or {error} saying why it could not be measured. `server(env, gunicorn, app, cwd)`
    starts gunicorn as the portal's is started; `wrk` runs as for the portal."""
    env = {**os.environ, "OSCAR_DATABASE": database, "DJANGO_SETTINGS_MODULE": "peer.settings"}
    try:
        _run(["sh", "setup.sh"], env=env, what="building bench/oscar/.venv (setup.sh)")
        _ensure_database(database)
        _manage("migrate", "--noinput", "-v0", env=env, what="migrating the Oscar database")
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as skus:
            skus.write("\n".join(fixture.sku_codes))
        buyers = skus.name.replace(".txt", "-buyers.txt")
        prepared = json.loads(
            _manage(
                "peer_prepare",
                "--skus-file",
                skus.name,
                "--buyers",
                str(len(fixture.placement_buyers)),
                "--buyers-out",
                buyers,
                env=env,
                what="seeding Oscar's products and stock",
            )
        )
        first_session = Path(buyers).read_text().split()[0]
        queries = int(
            _manage("peer_queries", "--session", first_session, env=env, what="counting queries")
        )
        place = {
            "script": "place.lua",
            "env": {
                "BUYERS_FILE": buyers,
                "SKU_FILE": skus.name,
                "LINES": str(LINES),
                "QUANTITY": "1",
                "PLACE_PATH": "/place/",
                "AUTH_HEADER": "Cookie",
                "AUTH_PREFIX": "sessionid=",
            },
        }
        with server(env, gunicorn=OSCAR / ".venv/bin/gunicorn", app="peer.wsgi", cwd=OSCAR):
            # Each worker loads Oscar's checkout classes on its first orders: not measured.
            wrk("/place/", duration=WARM_UP_S, runs=1, **place)
            started = dt.datetime.now(dt.UTC)
            measured = wrk("/place/", duration=max(duration, MIN_DURATION_S), runs=runs, **place)
            ended = dt.datetime.now(dt.UTC)
        window = ("--since", started.isoformat(), "--until", ended.isoformat())
        placed = json.loads(_manage("peer_audit", *window, env=env, what="auditing Oscar's stock"))
    except (
        PeerUnavailable,
        OSError,
        psycopg2.Error,
        RuntimeError,
        ValueError,
        subprocess.CalledProcessError,
    ) as error:
        return {"error": str(error)}
    if not placed["orders"]:
        return {"error": f"no order placed in the {duration} s wrk ran (gunicorn's log above)"}
    seconds = (ended - started).total_seconds()
    return summary(measured, prepared=prepared, placed=placed, seconds=seconds, queries=queries)


def summary(measured, *, prepared, placed, seconds, queries):
    """Lines placed per second: the order lines Oscar wrote while wrk ran, over that time,
    from its database (at a few orders a second, wrk's own count of the few requests each
    connection completes is too coarse). A line short of stock is left out of Oscar's
    basket, where the portal backorders it."""
    orders, lines = placed["orders"], placed["lines"]
    return {
        **measured,
        "queries": queries,
        "seconds": round(seconds, 2),
        "orders": orders,
        "lines": lines,
        "short_lines": orders * LINES - lines,
        "lines_per_s": round(lines / seconds, 2),
        "oversold": placed["oversold"],
        "skus": prepared["skus"],
        "limited_skus": prepared["limited"],
    }

"""`make run` runs on an embedded default (SQLite and a filesystem broker) while the
suite runs on PostgreSQL: the engine's hand-written statements and the pages that read
JSON must work on both. The engine's tests are run once more, on SQLite."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
# Placement, cancelling, the sweep, ETA changes, receipts, stock counts, shipments and
# invoices, the catalogue's SQL, and customer service's order page.
ENGINE_TESTS = [
    "tests/backorders",
    "tests/inventory",
    "tests/orders/test_order_place.py",
    "tests/orders/test_fulfilment.py",
    "tests/orders/test_admin.py",
]


@pytest.mark.slow
@pytest.mark.skipif(connection.vendor == "sqlite", reason="this suite runs on SQLite already")
def test_the_engine_tests_pass_on_the_embedded_sqlite_default():
    server_settings = ("DATABASE_URL", "CELERY_BROKER_URL")
    env = {name: value for name, value in os.environ.items() if name not in server_settings}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *ENGINE_TESTS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in summary, summary
    assert "failed" not in summary, summary

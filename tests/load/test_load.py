"""Load, bounded and on loopback only: 24 retailers (each its own account and API token)
order a few hot SKUs with little stock over the real HTTP API, served by gunicorn on
PostgreSQL, while the brand's integration user receives inbound runs and moves ETAs.
At the end: no 5xx, no oversell, every invariant in the SQL audit at zero.

`make test` runs the short form (LOAD_SECONDS=15); `make load` the long one (60 s).
The figures are printed and written to var/load-results.json."""

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from knox.models import AuthToken

from inventory.models import InboundRun, Replenishment, StockLevel
from orders.models import Order, OrderLine
from portal.invariants import invariant_violations
from portal.roles import StaffRole, staff_groups_ensure
from tests.factories import (
    AccountFactory,
    InboundLineFactory,
    InboundRunFactory,
    MembershipFactory,
    ShipToFactory,
    SKUFactory,
    StaffFactory,
    StockLevelFactory,
    StyleFactory,
    UserFactory,
)
from tests.notifications.conftest import free_port
from tests.orders.conftest import make_fill_in
from tests.workers import scratch_broker

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="load runs on PostgreSQL"),
]

ROOT = Path(__file__).resolve().parents[2]
BUYERS = 24
SECONDS = float(os.environ.get("LOAD_SECONDS", "15"))
BROKER = scratch_broker(14)


def _gunicorn(port: int) -> subprocess.Popen:
    db = django_settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "API_THROTTLE_RATE": "100000/minute",
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": "60",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--log-level",
            "warning",
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_up(base: str, server: subprocess.Popen):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stderr.read().decode()[-3000:]
        try:
            requests.get(f"{base}/healthz", timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not start")


@pytest.fixture
def market(terms, warehouse):
    terms.opening_order_minimum = Decimal("0.00")
    terms.fill_in_minimum_pairs = 1
    terms.save()
    committed = StyleFactory(replenishment=Replenishment.COMMITTED)
    seasonal = StyleFactory(replenishment=Replenishment.SEASONAL)
    hot = [SKUFactory(style=committed, color=c, price=Decimal("60.00")) for c in ("Black", "Tan")]
    hot += [SKUFactory(style=seasonal, color=c, price=Decimal("45.00")) for c in ("Red", "Sand")]
    for sku, on_hand in zip(hot, (40, 30, 25, 20), strict=True):
        StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=on_hand)
    today = timezone.localdate()
    runs = []
    for i in range(6):
        run = InboundRunFactory(
            warehouse=warehouse, reference=f"LOAD-RUN-{i}", eta=today + dt.timedelta(days=10 + i)
        )
        for sku in hot[:2]:
            InboundLineFactory(run=run, sku=sku, quantity=60)
        runs.append(run.reference)
    tokens = []
    for _ in range(BUYERS):
        account = AccountFactory()
        ShipToFactory(account=account)
        make_fill_in(account)
        user = MembershipFactory(account=account, user=UserFactory()).user
        tokens.append(AuthToken.objects.create(user=user)[1])
    staff_groups_ensure()
    staff = StaffFactory()
    staff.groups.add(Group.objects.get(name=StaffRole.INTEGRATION.value))
    return {
        "skus": [sku.code for sku in hot],
        "runs": runs,
        "tokens": tokens,
        "staff_token": AuthToken.objects.create(user=staff)[1],
    }


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.errors: list[str] = []
        self.latencies: list[float] = []

    def record(self, kind, response, elapsed):
        with self.lock:
            self.statuses[(kind, response.status_code)] += 1
            self.latencies.append(elapsed)
            if response.status_code >= 500:
                self.errors.append(f"{kind} {response.status_code}: {response.text[:300]}")

    def failed(self, kind, exc):
        with self.lock:
            self.statuses[(kind, "connection error")] += 1
            self.errors.append(f"{kind}: {exc!r}")


def _timed(tally, kind, call):
    started = time.monotonic()
    try:
        response = call()
    except requests.RequestException as exc:
        tally.failed(kind, exc)
        return None
    tally.record(kind, response, time.monotonic() - started)
    return response


def _buyer(base, token, skus, stop, tally, seed):
    rng = random.Random(seed)
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    while not stop.is_set():
        roll = rng.random()
        if roll < 0.7:
            picks = rng.sample(skus, rng.choice((1, 2)))
            body = {
                "po_number": f"PO-L{seed}-{rng.randrange(10**6)}",
                "backorders": rng.choice(("allow", "allow", "none")),
                "lines": [{"sku": sku, "quantity": rng.randint(1, 6)} for sku in picks],
            }
            key = uuid.uuid4().hex
            response = _timed(
                tally,
                "order",
                lambda body=body, key=key: session.post(
                    f"{base}/api/v1/orders/",
                    json=body,
                    headers={"Idempotency-Key": key},
                    timeout=30,
                ),
            )
            if response is not None and response.status_code == 201 and rng.random() < 0.2:
                # a client retry of the same request: the same order, 200
                _timed(
                    tally,
                    "order retry",
                    lambda body=body, key=key: session.post(
                        f"{base}/api/v1/orders/",
                        json=body,
                        headers={"Idempotency-Key": key},
                        timeout=30,
                    ),
                )
        elif roll < 0.85:
            _timed(tally, "skus", lambda: session.get(f"{base}/api/v1/skus/", timeout=30))
        else:
            _timed(tally, "orders", lambda: session.get(f"{base}/api/v1/orders/", timeout=30))


def _planner(base, token, runs, skus, stop, tally):
    rng = random.Random(7)
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    today = timezone.localdate()
    while not stop.is_set():
        reference = rng.choice(runs)
        if rng.random() < 0.5:
            body = {"lines": [{"sku": rng.choice(skus[:2]), "quantity": rng.randint(2, 10)}]}
            _timed(
                tally,
                "receive",
                lambda reference=reference, body=body: session.post(
                    f"{base}/api/v1/inbound/{reference}/receive/", json=body, timeout=30
                ),
            )
        else:
            eta = today + dt.timedelta(days=rng.randint(5, 90))
            _timed(
                tally,
                "eta",
                lambda reference=reference, eta=eta: session.post(
                    f"{base}/api/v1/inbound/{reference}/eta/",
                    json={"eta": eta.isoformat(), "reason": "Load test reschedule"},
                    timeout=30,
                ),
            )
        time.sleep(0.05)


def test_many_buyers_and_a_planner_at_once_never_oversell_nor_fail(market):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = _gunicorn(port)
    stop = threading.Event()
    tally = Tally()
    try:
        _wait_up(base, server)
        threads = [
            threading.Thread(
                target=_buyer, args=(base, token, market["skus"], stop, tally, i), daemon=True
            )
            for i, token in enumerate(market["tokens"])
        ]
        threads.append(
            threading.Thread(
                target=_planner,
                args=(base, market["staff_token"], market["runs"], market["skus"], stop, tally),
                daemon=True,
            )
        )
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(SECONDS)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        duration = time.monotonic() - started
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    violations = invariant_violations()
    latencies = sorted(tally.latencies)
    requests_made = sum(tally.statuses.values())
    server_errors = sum(
        n
        for (_, status), n in tally.statuses.items()
        if status != 200 and (status == "connection error" or status >= 500)
    )
    levels = StockLevel.objects.filter(sku__code__in=market["skus"])
    results = {
        "seconds": round(duration, 1),
        "buyers": BUYERS,
        "requests": requests_made,
        "requests_per_second": round(requests_made / duration, 1),
        "statuses": {f"{k} {s}": n for (k, s), n in sorted(tally.statuses.items(), key=str)},
        "server_errors": server_errors,
        "p50_ms": round(latencies[len(latencies) // 2] * 1000) if latencies else None,
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000) if latencies else None,
        "orders": Order.objects.filter(source="api").count(),
        "pairs_allocated_or_shipped": OrderLine.objects.aggregate(
            n=Sum("allocated") + Sum("shipped")
        )["n"],
        "pairs_backordered": OrderLine.objects.aggregate(n=Sum("backordered"))["n"],
        "receipts": InboundRun.objects.filter(lines__received__gt=0).distinct().count(),
        "stock": list(levels.values_list("sku__code", "on_hand", "allocated")),
        "audit": violations,
    }
    (ROOT / "var").mkdir(exist_ok=True)
    (ROOT / "var" / "load-results.json").write_text(json.dumps(results, indent=2, default=str))
    print("\nLOAD " + json.dumps(results, default=str))

    assert not tally.errors, "\n".join(tally.errors[:20])
    assert server_errors == 0
    assert set(violations.values()) == {0}, violations
    for code, on_hand, allocated in results["stock"]:
        assert 0 <= allocated <= on_hand, code
    assert tally.statuses[("order", 201)] >= BUYERS  # everyone got orders in
    assert tally.statuses[("receive", 200)] + tally.statuses[("receive", 201)] > 0
    assert tally.statuses[("eta", 200)] > 0
    assert results["pairs_backordered"] is not None

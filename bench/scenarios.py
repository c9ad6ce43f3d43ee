"""The measured scenarios, run inside Django by bench/measure.py."""

import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.models import SKU, StockLevel, Style
from orders.models import Account, Membership, Order, OrderLine
from portal.middleware import SESSION_ACCOUNT_KEY

SAMPLE_SKUS = 5000
TOP_UP = 1_000_000


@dataclass
class Fixture:
    user: object
    account: object
    api_headers: list
    session_headers: list
    pages: list
    counts: dict
    sku_codes: list
    hot_sku_code: str
    level_min_id: int
    level_max_id: int
    hot_level_id: int
    media_root: str = ""
    extra: dict = field(default_factory=dict)


def _sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def prepare(*, database):
    """Pick a buyer and their account, give them a token and a session, top up stock on
    a deterministic sample of SKUs so placement measures placing, not running dry."""
    from knox.models import AuthToken

    rng = random.Random(2026)
    membership = (
        Membership.objects.filter(
            role="buyer",
            user__is_active=True,
            account__is_active=True,
            account__orders__isnull=False,
        )
        .select_related("user", "account")
        .order_by("account_id")
        .first()
    )
    user, account = membership.user, membership.account
    _, key = AuthToken.objects.create(user=user)

    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[SESSION_ACCOUNT_KEY] = account.pk
    session.save()

    sku_ids = list(
        SKU.objects.filter(active=True, style__replenishment="committed")
        .values_list("pk", flat=True)
        .order_by("pk")
    )
    sample = rng.sample(sku_ids, min(SAMPLE_SKUS, len(sku_ids)))
    hot_id = sample[0]
    _sql(
        f"UPDATE {StockLevel._meta.db_table} SET on_hand = allocated + holdback + %s "
        "WHERE sku_id = ANY(%s)",
        [TOP_UP, sample],
    )
    codes = dict(SKU.objects.filter(pk__in=sample).values_list("pk", "code"))
    _sql(
        "CREATE TABLE IF NOT EXISTS bench_reservation (id bigserial PRIMARY KEY, "
        "stock_level_id bigint NOT NULL, quantity integer NOT NULL, created_at timestamptz)"
    )
    _sql("TRUNCATE bench_reservation")
    # The baseline reserves against a copy of the stock table, so the real counters (and
    # the invariant audit after placement) are untouched by it.
    _sql("DROP TABLE IF EXISTS bench_stock")
    _sql(
        "CREATE TABLE bench_stock AS SELECT id, allocated + holdback + %s AS on_hand, allocated, "
        f"holdback FROM {StockLevel._meta.db_table}",
        [TOP_UP],
    )
    _sql("ALTER TABLE bench_stock ADD PRIMARY KEY (id)")
    level_bounds = _sql(f"SELECT min(id), max(id) FROM {StockLevel._meta.db_table}")[0]
    hot_level = StockLevel.objects.filter(sku_id=hot_id).order_by("pk").first()

    style = Style.objects.filter(skus__active=True).order_by("pk").distinct().first()
    order = Order.objects.filter(account=account).order_by("-pk").first()
    pages = [
        ("catalogue_api", "/api/v1/skus/?page=3", "api"),
        ("style_grid_page", reverse("portal:style_detail", args=[style.number]), "html"),
        ("dashboard_page", reverse("portal:dashboard"), "html"),
        ("order_detail_page", reverse("portal:order_detail", args=[order.number]), "html"),
    ]
    counts = {
        "skus": SKU.objects.count(),
        "accounts": Account.objects.count(),
        "orders": Order.objects.count(),
        "order_lines": OrderLine.objects.count(),
        "open_backorder_lines": OrderLine.objects.filter(backordered__gt=0).count(),
    }
    return Fixture(
        user=user,
        account=account,
        api_headers=[f"Authorization: Token {key}"],
        session_headers=[f"Cookie: {settings.SESSION_COOKIE_NAME}={session.session_key}"],
        pages=pages,
        counts=counts,
        sku_codes=[codes[pk] for pk in sample],
        hot_sku_code=codes[hot_id],
        level_min_id=level_bounds[0],
        level_max_id=level_bounds[1],
        hot_level_id=hot_level.pk,
    )


def queries_per_request(path, fixture, kind):
    """Database queries one request makes, counted in-process with the same settings."""
    client = Client()
    headers = {}
    if kind == "api":
        headers["HTTP_AUTHORIZATION"] = fixture.api_headers[0].split(": ", 1)[1]
    else:
        client.force_login(fixture.user)
        session = client.session
        session[SESSION_ACCOUNT_KEY] = fixture.account.pk
        session.save()
    client.get(path, **headers)  # warm caches (content types, sessions) as gunicorn would be
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **headers)
    assert response.status_code == 200, (path, response.status_code)
    return len(captured.captured_queries)


def placement(fixture, *, duration, runs, wrk):
    """Orders over the API from 16 clients: 10 random SKUs each, and 1 line of a hot SKU."""
    token = fixture.api_headers[0].split("Token ", 1)[1]
    results = {}
    for name, codes, lines, quantity in (
        ("placement_random", fixture.sku_codes, 10, 1),
        ("placement_hot", [fixture.hot_sku_code], 1, 6),
    ):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
            handle.write("\n".join(codes))
        measured = wrk(
            "/api/v1/orders/",
            duration=duration,
            runs=runs,
            script="place.lua",
            env={
                "TOKEN": token,
                "SKU_FILE": handle.name,
                "LINES": str(lines),
                "QUANTITY": str(quantity),
            },
        )
        measured["lines_per_s"] = {
            key: round(value * lines, 2) if key != "spread_pct" else value
            for key, value in measured["rps"].items()
        }
        results[name] = measured
    return results


def invariant_audit():
    """Violating rows per invariant after the run; zero everywhere means none broke."""
    from portal.invariants import invariant_violations

    return invariant_violations()


def timed(function, runs):
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return {
        "median_s": round(statistics.median(samples), 4),
        "min_s": round(min(samples), 4),
        "max_s": round(max(samples), 4),
    }

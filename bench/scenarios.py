"""The measured scenarios, run inside Django by bench/measure.py."""

import random
import statistics
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.files.base import ContentFile
from django.db import connection
from django.db.models import Count
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.utils.http import urlencode

from inventory.models import SKU, StockLevel, Style
from orders.models import Account, Membership, Order, OrderLine
from portal.middleware import SESSION_ACCOUNT_KEY

SAMPLE_SKUS = 5000
# Stores placing at once: 64 where there are enough (100x), else 16 (1x has 25 accounts).
# One account's placements queue on its credit lock, so 16 connections on 16 accounts
# spend much of the run waiting on each other, which no real day of many stores does.
PLACING_ACCOUNTS = 64
PLACING_ACCOUNTS_SMALL = 16
TOP_UP = 1_000_000


@dataclass
class Fixture:
    user: object
    account: object
    api_headers: list
    session_key: str
    session_headers: list
    pages: list
    counts: dict
    sku_codes: list
    hot_sku_code: str
    level_min_id: int
    level_max_id: int
    hot_level_id: int
    media_root: str = ""
    placement_account: object = None
    placement_token: str = ""
    placement_buyers: list = field(default_factory=list)  # (token, account number)
    extra: dict = field(default_factory=dict)


def _sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def prepare(*, database):
    """Pick a buyer and their account, give them a token and a session, top up stock on
    a deterministic sample of SKUs so placement measures placing, not running dry."""
    from knox.models import AuthToken

    from orders.line_sheets import line_sheet_render

    rng = random.Random(2026)
    # Stored documents go to a scratch media root that the server is started with too.
    media_root = tempfile.mkdtemp(prefix="bench-media-")
    override_settings(MEDIA_ROOT=media_root).enable()
    # Two accounts: orders placed by the benchmark go to the first, pages are measured on
    # the second, so the pages see the seeded data however many runs have placed orders.
    memberships = list(
        Membership.objects.filter(
            role="buyer",
            user__is_active=True,
            account__is_active=True,
            account__orders__isnull=False,
        )
        .select_related("user", "account")
        .order_by("account_id", "user_id")
        .distinct()[: PLACING_ACCOUNTS * 4]
    )
    # Orders are placed by the buyers of PLACING_ACCOUNTS accounts (many stores at once);
    # pages are measured on another account, none of whose people places any.
    placing_count = (
        PLACING_ACCOUNTS
        if Account.objects.count() >= 4 * PLACING_ACCOUNTS
        else PLACING_ACCOUNTS_SMALL
    )
    # An account on credit hold refuses every order (400): it would measure refusals.
    may_order = [m for m in memberships if m.account.credit_status != "hold"]
    placing_memberships = list(
        {m.account_id: m for m in reversed(may_order[: placing_count * 3])}.values()
    )[:placing_count]
    placing = placing_memberships[0]
    placing_users = set(
        Membership.objects.filter(
            account__in=[m.account_id for m in placing_memberships]
        ).values_list("user_id", flat=True)
    )
    several = set(
        Membership.objects.values("user_id")
        .annotate(accounts=Count("account_id"))
        .filter(accounts__gt=1)
        .values_list("user_id", flat=True)
    )
    # Nobody on the placement account, or the page user's feed fills with confirmations.
    membership = next(
        m
        for m in memberships
        if m.account_id not in {p.account_id for p in placing_memberships}
        and m.user_id not in placing_users
        and m.user_id not in several  # the API asks a user of several accounts to name one
    )
    user, account = membership.user, membership.account
    _, key = AuthToken.objects.create(user=user)
    placement_buyers = [
        (AuthToken.objects.create(user=m.user)[1], m.account.number) for m in placing_memberships
    ]

    from django.contrib.sessions.backends.cached_db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[SESSION_ACCOUNT_KEY] = account.pk
    session.save()

    sku_ids = list(
        SKU.objects.filter(active=True, style__replenishment="committed")
        .values_list("pk", flat=True)
        .order_by("pk")
    )
    # At most half the SKUs: the top-up fills the sample's waiting backorders, and the
    # batch jobs (sweep, ETA fan-out) need the others' still waiting.
    sample = rng.sample(sku_ids, min(SAMPLE_SKUS, len(sku_ids) // 2))
    hot_id = sample[0]
    stock_top_up(sku_ids=sample)
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
    # Fresh statistics after the top-up and earlier runs' orders, so plans are the ones a
    # routinely analysed database would get.
    _sql("ANALYZE")
    hot_level = StockLevel.objects.filter(sku_id=hot_id).order_by("pk").first()

    style = Style.objects.filter(skus__active=True).order_by("pk").distinct().first()
    order = Order.objects.filter(account=account).order_by("-pk").first()
    claim, memo = claim_and_credit_ensure(user=user, account=account)
    # The whole catalogue's line sheet is made by a worker (202 until it is stored): made
    # here, so its download is measured as a buyer gets it once made.
    line_sheet_render(account_id=account.pk, category="", file_format="xlsx")
    pages = [
        ("catalogue_api", "/api/v1/skus/?page=3", "api"),
        ("catalogue_page", reverse("portal:catalogue") + "?page=2", "html"),
        ("style_grid_page", reverse("portal:style_detail", args=[style.number]), "html"),
        ("dashboard_page", reverse("portal:dashboard"), "html"),
        ("order_detail_page", reverse("portal:order_detail", args=[order.number]), "html"),
        ("backorders_page", reverse("portal:backorders"), "html"),
        ("invoices_page", reverse("portal:invoice_list"), "html"),
        *later_pages(style=style, claim=claim, memo=memo),
    ]
    counts = {
        "skus": SKU.objects.count(),
        "accounts": Account.objects.count(),
        "orders": Order.objects.count(),
        "order_lines": OrderLine.objects.count(),
        "open_backorder_lines": OrderLine.objects.filter(backordered__gt=0).count(),
    }
    csrf_secret = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
    return Fixture(
        user=user,
        account=account,
        api_headers=[f"Authorization: Token {key}"],
        session_key=session.session_key,
        # As a browser sends them: the CSRF cookie its first page set comes back with the
        # session's (without it, every page would make and set a new one).
        session_headers=[
            f"Cookie: {settings.SESSION_COOKIE_NAME}={session.session_key}; "
            f"{settings.CSRF_COOKIE_NAME}={csrf_secret}"
        ],
        pages=pages,
        counts=counts,
        sku_codes=[codes[pk] for pk in sample],
        hot_sku_code=codes[hot_id],
        level_min_id=level_bounds[0],
        level_max_id=level_bounds[1],
        hot_level_id=hot_level.pk,
        media_root=media_root,
        placement_account=placing.account,
        placement_token=placement_buyers[0][0],
        placement_buyers=placement_buyers,
    )


# Counts per stock_sync call: each call locks its SKUs' waiting lines and levels at once.
TOP_UP_BATCH = 500


def stock_top_up(*, sku_ids):
    """Count TOP_UP pairs above what is allocated and held back on every stock level of
    these SKUs, through the warehouse count service (backorders.services.stock_sync), so
    the SKUs' waiting backorders are filled first, as a real receipt or count does."""
    from backorders.services import StockCountRequest, stock_sync

    levels = list(
        StockLevel.objects.filter(sku_id__in=sku_ids)
        .order_by("pk")
        .values_list("sku__code", "warehouse__code", "allocated", "holdback")
    )
    counts = [
        StockCountRequest(sku=code, warehouse=warehouse, on_hand=allocated + holdback + TOP_UP)
        for code, warehouse, allocated, holdback in levels
    ]
    for start in range(0, len(counts), TOP_UP_BATCH):
        stock_sync(counts=counts[start : start + TOP_UP_BATCH], user=None)


def claim_and_credit_ensure(*, user, account):
    """A claim (with its case) and a credit memo on the page account, filed through the
    services the portal uses, once: the seeded data has neither, and their pages are
    measured with something on them."""
    from orders.models import Claim, CreditMemo, Invoice, Shipment
    from orders.services.claims import claim_file
    from orders.services.fulfilment import credit_memo_issue

    claim = Claim.objects.filter(case__account=account).order_by("pk").first()
    if claim is None:
        shipment = Shipment.objects.filter(order__account=account).order_by("-pk").first()
        line = shipment.lines.select_related("order_line__sku").order_by("pk").first()
        claim = claim_file(
            user=user,
            shipment_number=shipment.number,
            reason="damaged",
            note="Benchmark claim: one pair arrived with a torn box.",
            lines=[{"sku": line.order_line.sku.code, "quantity": 1}],
        )
    memo = CreditMemo.objects.filter(invoice__account=account).order_by("pk").first()
    if memo is None:
        invoice = Invoice.objects.filter(account=account).order_by("-pk").first()
        memo = credit_memo_issue(invoice=invoice, amount="1.00", reason="damaged", user=None)
    return claim, memo


def later_pages(*, style, claim, memo):
    """Pages and endpoints added after the first round (claims and their cases, credit
    memos, exports, the faceted catalogue with pictures, line sheets), each (name, path,
    kind): bench/run.py holds them to the same targets as the first ones."""
    facets = urlencode([("category", style.category), ("width", "M"), ("view", "grid")], doseq=True)
    return [
        ("catalogue_facets_page", reverse("portal:catalogue") + "?" + facets, "html"),
        ("catalogue_facets_api", "/api/v1/skus/?" + facets, "api"),
        ("case_list_page", reverse("portal:case_list"), "html"),
        ("claim_case_page", reverse("portal:case_detail", args=[claim.case.number]), "html"),
        ("credit_memos_page", reverse("portal:credit_memo_list"), "html"),
        (
            "invoice_detail_page",
            reverse("portal:invoice_detail", args=[memo.invoice.number]),
            "html",
        ),
        ("orders_csv_export", reverse("portal:export", args=["orders", "csv"]), "html"),
        ("backorders_xlsx_export", reverse("portal:export", args=["backorders", "xlsx"]), "html"),
        ("line_sheet_xlsx", reverse("portal:line_sheet") + "?format=xlsx", "html"),
        ("claims_api", "/api/v1/claims/", "api"),
        ("credit_memos_api", "/api/v1/credit-memos/", "api"),
        ("backorders_api", "/api/v1/backorders/", "api"),
    ]


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
    with counted_queries() as executed:
        response = client.get(path, **headers)
        if response.streaming:  # a CSV export reads its rows while it is sent
            b"".join(response.streaming_content)
    assert response.status_code == 200, (path, response.status_code)
    return len(executed)


@contextmanager
def counted_queries():
    """The SQL run inside the block. A wrapper, not CaptureQueriesContext: the test
    client's request_started signal resets the debug query log mid-capture."""
    executed = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield executed


def placement_queries(fixture, lines=10):
    """Database queries one API order of `lines` random sample SKUs makes, counted
    in-process as the page figures are (after one order that warms the caches)."""
    from rest_framework.test import APIClient

    token, account = fixture.placement_buyers[0]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    rng = random.Random()
    for attempt in ("warm", "counted"):
        key = f"bench-queries-{attempt}-{rng.randrange(10**12)}"
        body = {
            "account": account,
            "po_number": key.upper(),
            "backorders": "allow",
            "lines": [
                {"sku": code, "quantity": 1} for code in rng.sample(fixture.sku_codes, lines)
            ],
        }
        with counted_queries() as executed:
            response = client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert response.status_code == 201, response.content
    return len(executed)


def placements(fixture):
    """(name, SKU codes, lines per order, pairs per line) of each placement measured."""
    return (
        ("placement_random", fixture.sku_codes, 10, 1),
        ("placement_random_1", fixture.sku_codes, 1, 6),  # a fill-in: 6 pairs at least
        ("placement_hot", [fixture.hot_sku_code], 1, 6),
    )


def placement(fixture, *, duration, runs, in_turns):
    """Orders over the API from 16 clients: 10 random SKUs each, 1 random SKU each, and 1
    line of a hot SKU, in turns with the bare DRF view (bare_drf_beside_placement): the
    orders are compared with the view as the machine ran while they were measured, not
    minutes before with the baselines."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as buyers:
        buyers.write("\n".join(f"{token} {account}" for token, account in fixture.placement_buyers))
    scenarios = {
        "bare_drf_beside_placement": {"path": "/bench/bare-drf/", "headers": fixture.api_headers}
    }
    for name, codes, lines, quantity in placements(fixture):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
            handle.write("\n".join(codes))
        scenarios[name] = {
            "path": "/api/v1/orders/",
            "script": "place.lua",
            "env": {
                "BUYERS_FILE": buyers.name,
                "SKU_FILE": handle.name,
                "LINES": str(lines),
                "QUANTITY": str(quantity),
            },
        }
    results = in_turns(scenarios, duration=duration, runs=runs)
    for name, _, lines, _ in placements(fixture):
        results[name]["lines_per_s"] = {
            key: round(value * lines, 2) if key != "spread_pct" else value
            for key, value in results[name]["rps"].items()
        }
    results["placement_random"]["queries"] = placement_queries(fixture)
    return results


def invariant_audit():
    """Violating rows per invariant after the run; zero everywhere means none broke."""
    from portal.invariants import invariant_violations

    return invariant_violations()


def timed_side_by_side(functions, runs):
    """Time each function `runs` times, taking turns, so the machine's drift during the
    runs falls on all of them alike; {name: median, min and max seconds}."""
    samples = {name: [] for name in functions}
    for _ in range(runs):
        for name, function in functions.items():
            started = time.perf_counter()
            function()
            samples[name].append(time.perf_counter() - started)
    return {
        name: {
            "median_s": round(statistics.median(times), 4),
            "min_s": round(min(times), 4),
            "max_s": round(max(times), 4),
        }
        for name, times in samples.items()
    }


# --- Batch jobs: the sweep and an ETA fan-out, against one set-based statement per table


ETA_ACCOUNTS = 2000
ETA_LINES_PER_ACCOUNT = 10
SWEEP_REASON = "Past your backorder window"
# The tables the ETA fan-out and its raw SQL baseline write.
FANOUT_TABLES = (
    "inventory_etachange",
    "inventory_inboundrun",
    "orders_orderline",
    "notifications_message",
)
# The tables the sweep and its raw SQL baseline write.
SWEEP_TABLES = (
    "inventory_inboundline",
    "orders_backorderpeg",
    "backorders_autocancellation",
    "orders_orderline",
    "orders_order",
    "notifications_message",
)


def _switch_database(name):
    """Point the default connection at another database (closed first)."""
    connection.close()
    connection.settings_dict["NAME"] = name


def _clone(source, target):
    """A throwaway copy of a seeded database, so the jobs can change everything and the
    seeded data stays reusable."""
    import psycopg2

    connection.close()
    admin = psycopg2.connect(
        host="127.0.0.1", user="postgres", dbname="postgres", connect_timeout=10
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [source],
        )
        cursor.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}" STRATEGY FILE_COPY')
    admin.close()


def _drop(name):
    import psycopg2

    connection.close()
    admin = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _eta_fanout_prepare(*, today):
    """A confirmed run carrying ETA_LINES_PER_ACCOUNT backordered lines of each of
    ETA_ACCOUNTS accounts, built with set-based SQL: the lines' existing pegs are released
    (their inbound lines' promised counts go down), the new run gets one inbound line per
    SKU covering what is pegged to it, and each line is pegged to it in full, inside its
    window; the SKUs' other open runs bring only what they have promised. Returns (run,
    line count, account count)."""
    import datetime as dt

    from inventory.models import OPEN_INBOUND_STATUSES, InboundRun, Warehouse

    run = InboundRun.objects.create(
        reference="BENCH-FANOUT",
        factory="bench",
        warehouse=Warehouse.objects.order_by("pk").first(),
        status="confirmed",
        eta=today + dt.timedelta(days=20),
    )
    _sql("DROP TABLE IF EXISTS bench_fanout")
    _sql(
        """
        CREATE TABLE bench_fanout AS
        SELECT line_id, sku_id, backordered FROM (
            SELECT l.id AS line_id, l.sku_id, l.backordered, o.account_id,
                   dense_rank() OVER (ORDER BY o.account_id) AS account_rank,
                   row_number() OVER (PARTITION BY o.account_id ORDER BY l.id) AS line_rank
            FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id
            WHERE l.backordered > 0
        ) ranked
        WHERE account_rank <= %s AND line_rank <= %s
        """,
        [ETA_ACCOUNTS, ETA_LINES_PER_ACCOUNT],
    )
    _sql(
        """
        UPDATE inventory_inboundline il SET promised = il.promised - released.total
        FROM (SELECT p.inbound_line_id, sum(p.quantity) AS total
              FROM orders_backorderpeg p JOIN bench_fanout f ON f.line_id = p.line_id
              GROUP BY p.inbound_line_id) released
        WHERE il.id = released.inbound_line_id
        """
    )
    _sql("DELETE FROM orders_backorderpeg p USING bench_fanout f WHERE f.line_id = p.line_id")
    _sql(
        """
        INSERT INTO inventory_inboundline (run_id, sku_id, quantity, received, promised)
        SELECT %s, sku_id, sum(backordered), 0, sum(backordered) FROM bench_fanout
        GROUP BY sku_id
        """,
        [run.pk],
    )
    _sql(
        """
        INSERT INTO orders_backorderpeg (line_id, inbound_line_id, quantity, created_at)
        SELECT f.line_id, il.id, f.backordered, now()
        FROM bench_fanout f JOIN inventory_inboundline il ON il.sku_id = f.sku_id AND il.run_id = %s
        """,
        [run.pk],
    )
    _sql(
        "UPDATE orders_orderline l SET window_end = %s FROM bench_fanout f WHERE f.line_id = l.id",
        [today + dt.timedelta(days=120)],
    )
    # The SKUs' other open runs are fully promised (planned to bring what is promised),
    # so the change is the fan-out alone: no line can move to another run and keep its
    # date, the row work the raw baseline does not do.
    _sql(
        """
        UPDATE inventory_inboundline il SET quantity = il.received + il.promised
        FROM inventory_inboundrun r
        WHERE r.id = il.run_id AND r.id <> %s AND r.status = ANY(%s)
          AND il.sku_id IN (SELECT sku_id FROM bench_fanout)
          AND il.quantity > il.received + il.promised
        """,
        [run.pk, [str(status) for status in OPEN_INBOUND_STATUSES]],
    )
    counts = _sql("SELECT count(*), count(DISTINCT line_id) FROM bench_fanout")[0]
    accounts = _sql(
        "SELECT count(DISTINCT o.account_id) FROM bench_fanout f "
        "JOIN orders_orderline l ON l.id = f.line_id JOIN orders_order o ON o.id = l.order_id"
    )[0][0]
    _sql("ANALYZE")
    return run, counts[1], accounts


def _eta_fanout_raw(*, run, new_eta, ship_date):
    """The same row work as eta_change, one set-based statement per table: the run's ETA
    and its change record, every pegged line's communicated date, and one eta_moved
    message per account member with the account's lines in its context."""
    _sql(
        "INSERT INTO inventory_etachange (run_id, old_eta, new_eta, reason, changed_at) "
        "SELECT id, eta, %s, 'bench', now() FROM inventory_inboundrun WHERE id = %s",
        [new_eta, run.pk],
    )
    _sql(
        "UPDATE inventory_inboundrun SET eta = %s, updated_at = now() WHERE id = %s",
        [new_eta, run.pk],
    )
    updated = _sql(
        """
        UPDATE orders_orderline l SET communicated_date = %s
        FROM orders_backorderpeg p JOIN inventory_inboundline il ON il.id = p.inbound_line_id
        WHERE p.line_id = l.id AND il.run_id = %s AND l.backordered > 0
        RETURNING l.id
        """,
        [ship_date, run.pk],
    )
    _sql(
        """
        INSERT INTO notifications_message (key, kind, recipient_id, to_email, subject, context,
            status, attempts, last_error, next_attempt_at, claim_token, created_at)
        SELECT 'raw-eta:' || per_account.account_id || ':' || m.user_id, 'eta_moved', m.user_id,
               u.email, 'New date for your backorders', per_account.context, 'pending', 0, '',
               now(), '', now()
        FROM (
            SELECT o.account_id, jsonb_build_object('lines', jsonb_agg(jsonb_build_object(
                'order_number', o.number, 'po_number', o.po_number, 'sku', s.code,
                'quantity', l.backordered, 'new_date', l.communicated_date))) AS context
            FROM orders_orderline l
            JOIN orders_order o ON o.id = l.order_id
            JOIN inventory_sku s ON s.id = l.sku_id
            JOIN orders_backorderpeg p ON p.line_id = l.id
            JOIN inventory_inboundline il ON il.id = p.inbound_line_id
            WHERE il.run_id = %s AND l.backordered > 0
            GROUP BY o.account_id
        ) per_account
        JOIN orders_membership m ON m.account_id = per_account.account_id
        JOIN portal_user u ON u.id = m.user_id AND u.is_active
        """,
        [run.pk],
    )
    return len(updated)


def _sweep_raw(*, today):
    """The same row work as the sweep, one set-based statement per table: inbound promises
    released, pegs deleted, cancellations recorded, lines cancelled, order totals (status)
    refreshed, one auto_cancel message per account member."""
    due = "l.backordered > 0 AND l.window_end < %s"
    _sql(
        f"""
        UPDATE inventory_inboundline il SET promised = il.promised - released.total
        FROM (SELECT p.inbound_line_id, sum(p.quantity) AS total
              FROM orders_backorderpeg p JOIN orders_orderline l ON l.id = p.line_id
              WHERE {due} GROUP BY p.inbound_line_id) released
        WHERE il.id = released.inbound_line_id
        """,
        [today],
    )
    _sql(
        f"DELETE FROM orders_backorderpeg p USING orders_orderline l "
        f"WHERE l.id = p.line_id AND {due}",
        [today],
    )
    _sql(
        f"""
        INSERT INTO backorders_autocancellation (line_id, account_id, quantity, source, reason,
            on_date, notice_key, created_at)
        SELECT l.id, o.account_id, l.backordered, 'window', %s, %s, '', now()
        FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id WHERE {due}
        """,
        [SWEEP_REASON, today, today],
    )
    cancelled = _sql(
        f"""
        UPDATE orders_orderline l SET cancelled = l.cancelled + l.backordered, backordered = 0,
            window_end = NULL, cancel_reason = %s
        WHERE {due} RETURNING l.order_id
        """,
        [SWEEP_REASON, today],
    )
    _sql(
        """
        UPDATE orders_order o SET status = CASE
            WHEN totals.open = 0 AND totals.shipped > 0 THEN 'shipped'
            WHEN totals.open = 0 THEN 'cancelled'
            WHEN totals.shipped > 0 THEN 'partially_shipped' ELSE 'open' END
        FROM (SELECT order_id, sum(allocated + backordered) AS open, sum(shipped) AS shipped
              FROM orders_orderline WHERE order_id = ANY(%s) GROUP BY order_id) totals
        WHERE o.id = totals.order_id
        """,
        [list({row[0] for row in cancelled})],
    )
    _sql(
        """
        INSERT INTO notifications_message (key, kind, recipient_id, to_email, subject, context,
            status, attempts, last_error, next_attempt_at, claim_token, created_at)
        SELECT 'raw-sweep:' || per_account.account_id || ':' || m.user_id, 'auto_cancel',
               m.user_id, u.email, 'Backorders cancelled', per_account.context, 'pending', 0,
               '', now(), '', now()
        FROM (
            SELECT a.account_id, jsonb_build_object('lines', jsonb_agg(jsonb_build_object(
                'order_number', o.number, 'po_number', o.po_number, 'sku', s.code,
                'quantity', a.quantity))) AS context
            FROM backorders_autocancellation a
            JOIN orders_orderline l ON l.id = a.line_id
            JOIN orders_order o ON o.id = l.order_id
            JOIN inventory_sku s ON s.id = l.sku_id
            WHERE a.notice_key = '' AND a.on_date = %s
            GROUP BY a.account_id
        ) per_account
        JOIN orders_membership m ON m.account_id = per_account.account_id
        JOIN portal_user u ON u.id = m.user_id AND u.is_active
        """,
        [today],
    )
    return len(cancelled)


def _timed_rolled_back(function, runs, **kwargs):
    """Median seconds of `function` in a transaction that is rolled back each time, so
    every run does the same work on the same rows."""
    from django.db import transaction

    class Rollback(Exception):
        pass

    samples, rows = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        try:
            with transaction.atomic():
                rows = function(**kwargs)
                connection.cursor().execute("SELECT 1")
                raise Rollback
        except Rollback:
            pass
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), rows


def jobs(*, database, runs):
    """The ETA fan-out (eta_change on a run with ~20k pegged lines across 2,000 accounts)
    and the sweep over every open backorder line (window ended), each against a raw SQL
    baseline doing the same row work, on a throwaway copy of the seeded database."""
    import datetime as dt

    from django.utils import timezone

    from backorders.services import backorder_sweep_all, eta_change
    from bench.explain import PlanRecorder
    from inventory.selectors import ship_date_from_run
    from orders.models import CommercialTerms

    copy = f"{database}_jobs"
    original = connection.settings_dict["NAME"]
    # A worker has loaded the URLconf long before a job runs; in this process the jobs'
    # first reverse() (the link in their messages) would import every view, WeasyPrint
    # among them, inside the timed call (3 s of a 1x fan-out measured with --only jobs).
    reverse("portal:backorders")
    _clone(database, copy)
    _switch_database(copy)
    results = {}
    try:
        today = timezone.localdate()
        run, lines, accounts = _eta_fanout_prepare(today=today)
        new_eta = run.eta + dt.timedelta(days=7)
        terms = CommercialTerms.objects.order_by("-effective_from", "-pk").first()
        raw_seconds, raw_rows = _timed_rolled_back(
            _eta_fanout_raw,
            runs,
            run=run,
            new_eta=new_eta,
            ship_date=ship_date_from_run(eta=new_eta, terms=terms, today=today),
        )
        # As for the sweep below: the change meets the tables as the raw's first run did.
        _sql(f"VACUUM ANALYZE {', '.join(FANOUT_TABLES)}")
        started = time.perf_counter()
        outcome = eta_change(run=run, new_eta=new_eta, reason="Bench: factory delay", user=None)
        seconds = time.perf_counter() - started
        # Its plans from a second, untimed change of the same lines.
        recorder = PlanRecorder(f"eta_change: {lines} lines across {accounts} accounts")
        with connection.execute_wrapper(recorder):
            eta_change(
                run=run, new_eta=new_eta + dt.timedelta(days=7), reason="Bench: plans", user=None
            )
        results["explain"] = [recorder.write(database=database, name="eta_change")]
        # Both take the same lines, every one pegged to the run: the raw statement dates
        # each, the change each whose date moves (one inside the factory's usual slip is
        # not news), so each is timed per line of the run.
        results["eta_change"] = {
            "lines": lines,
            "accounts": accounts,
            "moved": len(outcome.moved) + len(outcome.decisions),
            "accounts_told": outcome.accounts_told,
            "seconds": round(seconds, 3),
            "rows_per_s": round(lines / seconds, 1),
            "raw_seconds": round(raw_seconds, 3),
            "raw_rows": raw_rows,
            "raw_rows_per_s": round(raw_rows / raw_seconds, 1),
        }

        _sql(
            "UPDATE orders_orderline SET window_end = %s WHERE backordered > 0",
            [today - dt.timedelta(days=1)],
        )
        _sql("ANALYZE orders_orderline")
        open_lines = _sql("SELECT count(*) FROM orders_orderline WHERE backordered > 0")[0][0]
        raw_seconds, raw_rows = _timed_rolled_back(_sweep_raw, runs, today=today)
        # The raw runs rolled back leave dead rows in every table they wrote; the sweep
        # meets the tables as the raw's first run did.
        _sql(f"VACUUM ANALYZE {', '.join(SWEEP_TABLES)}")
        # Each statement shape is analysed once, as it first runs, in a savepoint rolled
        # back; the time that takes (the message run's statements cover a thousand
        # accounts each) is the recorder's, not the sweep's (the analysed run does warm
        # the cache for those first statements).
        recorder = PlanRecorder(f"sweep: {open_lines} open lines past their window")
        started = time.perf_counter()
        with connection.execute_wrapper(recorder):
            swept = backorder_sweep_all(today=today)
        seconds = time.perf_counter() - started - recorder.seconds
        results["explain"].append(recorder.write(database=database, name="sweep"))
        results["sweep"] = {
            "open_lines": open_lines,
            "lines_cancelled": swept.lines_cancelled,
            "decisions_defaulted": swept.decisions_defaulted,
            "accounts_told": swept.accounts_told,
            "seconds": round(seconds, 3),
            "rows_per_s": round(swept.lines_cancelled / seconds, 1),
            "raw_seconds": round(raw_seconds, 3),
            "raw_rows": raw_rows,
            "raw_rows_per_s": round(raw_rows / raw_seconds, 1),
        }
    finally:
        _switch_database(original)
        _drop(copy)
    return results


# --- Documents: invoice PDF render against bare WeasyPrint, and the stored PDF's download


def _pages(html: str) -> int:
    """Pages WeasyPrint lays this HTML out on (as orders.documents.pdf_from_html would)."""
    from weasyprint import HTML

    return len(HTML(string=html, base_url=str(settings.BASE_DIR)).render().pages)


# A render takes a second at most: more runs than the HTTP figures, for a steadier median.
PDF_RUNS = 9


def _bare_table_html(rows: int) -> str:
    body = "".join(
        f"<tr><td>SKU-{i:06d}</td><td>Style {i}, Colour, 9 M</td><td>6</td>"
        f"<td>$40.00</td><td>$240.00</td></tr>"
        for i in range(rows)
    )
    return (
        "<html><body><table><thead><tr><th>SKU</th><th>Description</th><th>Pairs</th>"
        f"<th>Unit price</th><th>Amount</th></tr></thead><tbody>{body}</tbody></table>"
        "</body></html>"
    )


def documents(fixture, *, duration, runs, wrk):
    """Invoice PDF render time for a 1-page and a 10-page invoice (orders.documents: the
    template and WeasyPrint, as the after-commit task runs it) against a bare WeasyPrint
    render of a plain table with the same number of rows; then the download of the
    issued, stored PDF through the signed link the invoice list gives the retailer's
    browser session (no rendering on the request path)."""
    from django.core.files.storage import default_storage

    from orders import documents as docs
    from orders.models import Invoice
    from portal.views.documents import invoice_download_url

    invoice = (
        Invoice.objects.filter(account=fixture.account).order_by("-pk").first()
        or Invoice.objects.order_by("-pk").first()
    )
    document = docs._load("invoice", invoice.pk)
    base_lines = list(document.lines.all())
    template = docs.KINDS["invoice"].template

    def invoice_context(rows):
        context = docs._context("invoice", document)
        context["lines"] = [base_lines[i % len(base_lines)] for i in range(rows)]
        return context

    def invoice_pages(rows):
        return len(docs.document_layout(template, invoice_context(rows)).pages)

    # A real one-page invoice, and rows enough for ten pages (doubling, then bisecting).
    def rows_for(pages):
        if pages == 1:
            return len(base_lines)
        low, high = 1, 64
        while invoice_pages(high) < pages:
            low, high = high, high * 2
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if invoice_pages(middle) < pages else (low, middle)
        return high

    results = {}
    for label, pages in (("1_page", 1), ("10_pages", 10)):
        rows = rows_for(pages)
        times = timed_side_by_side(
            {
                "invoice": lambda rows=rows: docs.pdf_from_template(
                    template, invoice_context(rows)
                ),
                "bare": lambda rows=rows: docs.pdf_from_html(_bare_table_html(rows)),
            },
            PDF_RUNS,
        )
        results[f"invoice_{label}"] = {
            "rows": rows,
            "pages": invoice_pages(rows),
            **times["invoice"],
        }
        results[f"bare_weasyprint_{label}"] = {
            "rows": rows,
            "pages": _pages(_bare_table_html(rows)),
            **times["bare"],
        }
    results["invoice_1_page"]["real_invoice"] = invoice.number

    # The issued PDF as the render task stores it, and the link the invoice list shows the
    # page user's session (valid for minutes: longer than the runs below).
    name = invoice.pdf.name or f"invoices/{invoice.number}.pdf"
    if default_storage.exists(name):
        default_storage.delete(name)
    default_storage.save(name, ContentFile(docs.document_pdf(kind="invoice", pk=invoice.pk)))
    Invoice.objects.filter(pk=invoice.pk).update(pdf=name)
    invoice.refresh_from_db(fields=["pdf"])
    path = invoice_download_url(
        invoice=invoice, user_id=fixture.user.pk, session_key=fixture.session_key
    )
    download = wrk(path, duration=duration, runs=runs, headers=fixture.session_headers)
    return {"pdf": results, "pdf_download": download}

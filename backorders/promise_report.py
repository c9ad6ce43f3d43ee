"""Read use cases for the promise report: did the dates promised to stores hold, how
were the brand's cancellations and the stores' split, how much did the backorder engine
talk, and how late does each factory run. The admin shows these on live data (last 90
days); the season simulator writes the same figures to its report."""

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass

from django.db import connection
from django.db.models import Max, Sum
from django.utils import timezone

from backorders.models import AutoCancellation, CancelSource, PromiseDay
from inventory.calendar import add_business_days
from inventory.models import InboundLine, InboundRun, StockLevel
from inventory.selectors import factory_records
from notifications.models import Message
from orders.models import BackorderPeg, Membership, OrderLine

BRAND_SOURCES = (CancelSource.WINDOW, CancelSource.RUN_CANCELLED)
SHORTAGE_PREFIX = "Warehouse stock shortage"
# What the backorder engine tells stores; confirmations, shipments and invoices are
# answers to the store's own actions and are not counted as noise.
NOISE_KINDS = ("eta_moved", "decision_request", "auto_cancel", "stock_shortage", "backorder_filled")
# Why a backordered line missed the date first promised: the brand cancelled its pairs
# (its run was cancelled, its window ended, a count found the stock short), or they
# shipped after the date, or some had not shipped by the end of the period.
MISS_CAUSES = (
    ("run_cancelled", "Cancelled by the brand: the run was cancelled"),
    ("window", "Cancelled by the brand: the window ended"),
    ("stock_shortage", "Cancelled by the brand: a count found the stock short"),
    ("shipped_late", "Shipped after the date"),
    ("not_shipped", "Not all shipped by the end of the period"),
)
SLIP_BUCKETS = (
    (None, -1, "early"),
    (0, 0, "on time"),
    (1, 7, "1-7 days"),
    (8, 14, "8-14 days"),
    (15, 21, "15-21 days"),
    (22, None, "22+ days"),
)


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class FactoryFigures:
    factory: str
    runs: int
    on_time: float | None
    median_slip: float | None
    p90_slip: int | None
    buckets: dict

    @classmethod
    def of(cls, record) -> "FactoryFigures":
        slips = sorted(record.slips)
        buckets = {
            label: sum(
                1 for s in slips if (low is None or s >= low) and (high is None or s <= high)
            )
            for low, high, label in SLIP_BUCKETS
        }
        return cls(
            factory=record.factory,
            runs=len(slips),
            on_time=share(sum(1 for s in slips if s <= 0), len(slips)),
            median_slip=float(statistics.median(slips)) if slips else None,
            p90_slip=record.usual_slip(90) if slips else None,
            buckets=buckets,
        )


@dataclass(frozen=True)
class PromiseFigures:
    lines_due: int
    promises_kept: float | None
    backorder_lines_due: int
    backorder_promises_kept: float | None
    backorder_misses: dict  # MISS_CAUSES -> backordered lines due that missed for it
    pairs_ordered: int
    pairs_shipped: int
    fill_rate: float | None
    pairs_cancelled_by_brand: int
    pairs_not_had_at_placement: int
    pairs_cancelled_by_store: int
    noise_messages: int
    decision_requests: int
    accounts: int
    messages_per_account_week: float | None
    pair_days_backordered: int
    pair_days_past_window: int
    pair_days_free_while_waiting: int
    factory_records: list

    def as_dict(self) -> dict:
        return asdict(self)


def promise_figures(*, since: dt.date, until: dt.date) -> PromiseFigures:
    """The figures for orders placed from `since` to `until` (inclusive). A line counts
    once its first promised date has come (by `until`); it kept its promise when every
    pair promised that the store did not cancel shipped on or before that date and the
    brand cancelled none. It was a backorder when that date was later than stock would
    have shipped. Pairs that could not be had at placement were never promised, but the
    store ordered them: they are the brand's, and the fill rate counts them as not filled.
    """
    lines = list(
        OrderLine.objects.filter(
            order__placed_at__date__gte=since, order__placed_at__date__lte=until
        )
        .annotate(last_shipped=Max("shipment_lines__shipment__shipped_at"))
        .values(
            "pk",
            "quantity",
            "shipped",
            "cancelled",
            "cancelled_at_placement",
            "cancel_reason",
            "promised_date",
            "last_shipped",
            "order__placed_at",
            "order__terms__processing_days",
            "order__account_id",
        )
    )
    brand, brand_sources = defaultdict(int), defaultdict(set)
    for line_id, quantity, source in AutoCancellation.objects.filter(
        line_id__in=[line["pk"] for line in lines], source__in=BRAND_SOURCES
    ).values_list("line_id", "quantity", "source"):
        brand[line_id] += quantity
        brand_sources[line_id].add(source)
    due = kept = backorder_due = backorder_kept = 0
    misses = {cause: 0 for cause, _ in MISS_CAUSES}
    ordered = shipped = by_brand = not_had = by_store = 0
    accounts = set()
    for line in lines:
        accounts.add(line["order__account_id"])
        at_placement = line["cancelled_at_placement"]
        later = line["cancelled"] - at_placement
        brand_pairs = brand[line["pk"]]
        if line["cancel_reason"].startswith(SHORTAGE_PREFIX):
            brand_pairs = max(brand_pairs, later)
        brand_pairs = min(brand_pairs, later)
        store_pairs = later - brand_pairs
        by_brand += brand_pairs
        not_had += at_placement
        by_store += store_pairs
        ordered += at_placement  # not filled, whenever its promised pairs fall due
        promised = line["quantity"] - at_placement - store_pairs
        if not promised or line["promised_date"] is None or line["promised_date"] > until:
            continue
        ordered += promised
        shipped += line["shipped"]
        shipped_on = timezone.localdate(line["last_shipped"]) if line["last_shipped"] else None
        all_shipped = line["shipped"] >= promised
        held = (
            brand_pairs == 0
            and all_shipped
            and shipped_on is not None
            and shipped_on <= line["promised_date"]
        )
        from_stock = add_business_days(
            timezone.localdate(line["order__placed_at"]), line["order__terms__processing_days"]
        )
        due += 1
        kept += held
        if line["promised_date"] > from_stock:
            backorder_due += 1
            backorder_kept += held
            if not held:
                misses[_miss_cause(line, brand_pairs, brand_sources[line["pk"]], all_shipped)] += 1
    messages = Message.objects.filter(
        kind__in=NOISE_KINDS, created_at__date__gte=since, created_at__date__lte=until
    )
    members = Membership.objects.filter(account_id__in=accounts).values("user_id")
    noise = messages.filter(recipient_id__in=members).count()
    decisions = messages.filter(kind="decision_request", recipient_id__in=members).count()
    weeks = ((until - since).days + 1) / 7
    return PromiseFigures(
        lines_due=due,
        promises_kept=share(kept, due),
        backorder_lines_due=backorder_due,
        backorder_promises_kept=share(backorder_kept, backorder_due),
        backorder_misses=misses,
        pairs_ordered=ordered,
        pairs_shipped=shipped,
        fill_rate=share(shipped, ordered),
        pairs_cancelled_by_brand=by_brand,
        pairs_not_had_at_placement=not_had,
        pairs_cancelled_by_store=by_store,
        noise_messages=noise,
        decision_requests=decisions,
        accounts=len(accounts),
        messages_per_account_week=round(noise / len(accounts) / weeks, 3) if accounts else None,
        **pair_days(since=since, until=until),
        factory_records=[asdict(FactoryFigures.of(r)) for r in factory_records().values()],
    )


def _miss_cause(line: dict, brand_pairs: int, sources: set, all_shipped: bool) -> str:
    """Why a line missed the date first promised (a MISS_CAUSES key)."""
    if brand_pairs:
        if line["cancel_reason"].startswith(SHORTAGE_PREFIX):
            return "stock_shortage"
        return "run_cancelled" if CancelSource.RUN_CANCELLED in sources else "window"
    return "shipped_late" if all_shipped else "not_shipped"


def pair_days(*, since: dt.date, until: dt.date) -> dict:
    """The evening snapshots (PromiseDay) from `since` to `until` summed: each pair
    counts once for every day it spent backordered, past its window, or free while a
    backorder of its SKU waited."""
    totals = PromiseDay.objects.filter(day__gte=since, day__lte=until).aggregate(
        backordered=Sum("pairs_backordered"),
        past_window=Sum("pairs_past_window"),
        free=Sum("pairs_free_while_waiting"),
    )
    return {
        "pair_days_backordered": totals["backordered"] or 0,
        "pair_days_past_window": totals["past_window"] or 0,
        "pair_days_free_while_waiting": totals["free"] or 0,
    }


def pairs_past_window(*, today: dt.date) -> int:
    """Backordered pairs still alive after their window ended."""
    past = OrderLine.objects.filter(backordered__gt=0, window_end__lt=today)
    return past.aggregate(pairs=Sum("backordered"))["pairs"] or 0


def pairs_free_while_waiting() -> int:
    """Over every SKU and warehouse: free pairs (ATS) while a backorder pegged to a run
    into that warehouse waits, the smaller of the two."""
    stock, peg = StockLevel._meta.db_table, BackorderPeg._meta.db_table
    inbound, run = InboundLine._meta.db_table, InboundRun._meta.db_table
    sql = f"""
        WITH waiting AS (
            SELECT il.sku_id, r.warehouse_id, SUM(p.quantity) AS pairs
            FROM {peg} p JOIN {inbound} il ON il.id = p.inbound_line_id
            JOIN {run} r ON r.id = il.run_id
            GROUP BY il.sku_id, r.warehouse_id
        )
        SELECT COALESCE(SUM(CASE WHEN s.on_hand - s.allocated - s.holdback < w.pairs
                                 THEN s.on_hand - s.allocated - s.holdback
                                 ELSE w.pairs END), 0)
        FROM {stock} s JOIN waiting w
          ON w.sku_id = s.sku_id AND w.warehouse_id = s.warehouse_id
        WHERE s.on_hand - s.allocated - s.holdback > 0
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.fetchone()[0])


def slips_told(*, since: dt.date, until: dt.date, today: dt.date) -> dict:
    """Slips from the messages that told them (a new date later than the old one): told
    early when the message went out by the old date. Lines whose date given has passed
    with nothing newer are slips not told. The simulator watches the same every day."""
    early, late, warnings = 0, 0, []
    told = Message.objects.filter(
        kind__in=("eta_moved", "decision_request"),
        created_at__date__gte=since,
        created_at__date__lte=until,
    ).values_list("key", "context", "created_at")
    seen = set()
    for key, context, created_at in told.order_by("pk"):
        sent_on = timezone.localdate(created_at)
        event = key.rsplit(":", 1)[0]  # one slip per event and line, whoever was told
        rows = context.get("lines", [])
        for row in rows:
            old = row.get("old_date", context.get("old_date"))
            new = row.get("new_date", context.get("new_date"))
            mark = (event, row.get("order_number"), row.get("sku"))
            if not old or not new or new <= old or mark in seen:
                continue
            seen.add(mark)
            if sent_on <= dt.date.fromisoformat(old):
                early += 1
                warnings.append((dt.date.fromisoformat(old) - sent_on).days)
            else:
                late += 1
    late += OrderLine.objects.filter(backordered__gt=0, communicated_date__lt=today).count()
    slips = early + late
    return {
        "slips": slips,
        "slips_told_early": share(early, slips) if slips else 1.0,
        "median_warning_days": float(statistics.median(warnings)) if warnings else None,
    }


def live_figures(*, today: dt.date, days: int = 90) -> dict:
    """The promise report on live data: orders and evening snapshots of the last `days`
    days (pair-days, as the season simulator reports them)."""
    since = today - dt.timedelta(days=days - 1)
    figures = promise_figures(since=since, until=today).as_dict()
    figures.update(slips_told(since=since, until=today, today=today))
    return figures


# --- Goals and charts (the admin page and the simulator's report.html) ---------------

GOALS = (
    ("backorder_promises_kept", ">=", 0.95, "Backordered lines shipped by the date first promised"),
    ("slips_told_early", ">=", 1.0, "Slips told before the date given had passed"),
    ("pair_days_past_window", "<=", 0, "Pair-days past the backorder window"),
    ("pair_days_free_while_waiting", "<=", 0, "Pair-days of free stock while backorders wait"),
    ("messages_per_account_week", "<=", 2.0, "Backorder messages per account per week"),
)
SHARES = (
    ("promises_kept", "Promises kept"),
    ("backorder_promises_kept", "Backorder promises kept"),
    ("slips_told_early", "Slips told early"),
    ("fill_rate", "Fill rate"),
)
MODE_COLORS = {"naive": "#9aa4ab", "calibrated": "#1f6f5c", "live": "#1f6f5c"}
FACTORY_COLORS = ("#1f6f5c", "#7a3b12", "#2a6fdb", "#9a5b00", "#6b4fa0", "#a11d2b")


def goals_check(figures: dict) -> list[dict]:
    """Each goal with its figure and whether it holds (a figure not measured does not)."""
    checks = []
    for key, op, target, label in GOALS:
        value = figures.get(key)
        holds = value is not None and (value >= target if op == ">=" else value <= target)
        checks.append(
            {"key": key, "label": label, "target": f"{op} {target}", "value": value, "holds": holds}
        )
    return checks


def _percent(value):
    return None if value is None else round(value * 100, 1)


def promise_charts(*, modes: dict[str, dict]) -> dict:
    """Chart data (the portal's charts.js format): the shares side by side per mode, and
    each factory's record as a distribution of days late."""
    shares = {
        "type": "bar",
        "labels": [label for _, label in SHARES],
        "datasets": [
            {
                "label": mode,
                "data": [_percent(figures.get(key)) for key, _ in SHARES],
                "color": MODE_COLORS.get(mode, "#2a6fdb"),
            }
            for mode, figures in modes.items()
        ],
        "yTitle": "Percent",
        "max": 100,
    }
    records = next(iter(modes.values()), {}).get("factory_records", [])
    labels = [label for _, _, label in SLIP_BUCKETS]
    factories = {
        "type": "bar",
        "labels": labels,
        "datasets": [
            {
                "label": record["factory"],
                "data": [record["buckets"][label] for label in labels],
                "color": FACTORY_COLORS[i % len(FACTORY_COLORS)],
            }
            for i, record in enumerate(records)
        ],
        "yTitle": "Runs",
    }
    return {"shares": shares, "factories": factories}


def figure_rows(*, columns, modes: dict[str, dict]) -> list[dict]:
    """Table rows: one per (key, label, "share" | "number") column, a value per mode."""

    def shown(value, kind):
        if value is None:
            return "-"
        return f"{value * 100:.1f}%" if kind == "share" else f"{value:g}"

    return [
        {"label": label, "values": [shown(figures.get(key), kind) for figures in modes.values()]}
        for key, label, kind in columns
    ]

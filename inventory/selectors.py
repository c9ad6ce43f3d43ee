"""Read use cases: availability now and by date, the inbound schedule, and promise dates.

Every ETA the product shows is read here, from InboundRun.eta (the one ETA table).
"""

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from django.core.exceptions import EmptyResultSet
from django.core.files.storage import default_storage
from django.core.paginator import Page, Paginator
from django.db import connection, connections
from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from inventory.calendar import add_business_days
from inventory.models import (
    OPEN_INBOUND_STATUSES,
    SKU,
    EtaChange,
    InboundLine,
    InboundRun,
    Replenishment,
    StockLevel,
    Style,
    StyleImage,
    Width,
)
from inventory.pricing import CENT, PriceRange
from inventory.querysets import ats_expression
from inventory.sql import ids_in, placeholders


def ats_by_sku(*, sku_ids) -> dict[int, int]:
    """ATS now per SKU: the sum over warehouses of max(on_hand - allocated - holdback, 0)."""
    rows = (
        StockLevel.objects.filter(sku_id__in=sku_ids)
        .values("sku_id")
        .annotate(ats=Sum(ats_expression()))
        .values_list("sku_id", "ats")
    )
    result = dict.fromkeys(sku_ids, 0)
    result.update({sku_id: int(ats or 0) for sku_id, ats in rows})
    return result


def run_etas(*, run_ids) -> dict[int, dt.date]:
    """The ETA of each run. Every ETA the product shows is read through this function.

    Plain SQL: every catalogue page reads its ETAs here, and the ORM took longer to build
    the query than the database takes to answer it."""
    run_ids = list(set(run_ids))
    if not run_ids:
        return {}
    sql = f"SELECT id, eta FROM {InboundRun._meta.db_table} WHERE id IN ({placeholders(run_ids)})"
    with connection.cursor() as cursor:
        cursor.execute(sql, run_ids)
        return dict(cursor.fetchall())


def open_inbound_has_room(*, sku_ids) -> bool:
    """Whether an open run of any of these SKUs still brings pairs nobody is promised."""
    return (
        InboundLine.objects.filter(ids_in("sku_id", sku_ids), run__status__in=OPEN_INBOUND_STATUSES)
        .filter(quantity__gt=F("received") + F("promised"))
        .exists()
    )


def next_eta_by_sku(*, sku_ids) -> dict[int, dt.date | None]:
    """The ETA of the earliest open run that still has unpromised pairs of each SKU.

    The lines are read in plain SQL: this runs on every catalogue page, and the ORM took
    five times longer to build the query than PostgreSQL takes to answer it."""
    sku_ids = list(sku_ids)
    result = dict.fromkeys(sku_ids)
    if not sku_ids:
        return result
    sql = f"""
        SELECT il.sku_id, il.run_id
        FROM {InboundLine._meta.db_table} il
        JOIN {InboundRun._meta.db_table} r ON r.id = il.run_id
        WHERE il.sku_id IN ({placeholders(sku_ids)})
          AND r.status IN ({placeholders(OPEN_INBOUND_STATUSES)})
          AND il.promised < il.quantity - il.received
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*sku_ids, *OPEN_INBOUND_STATUSES])
        pairs = cursor.fetchall()
    etas = run_etas(run_ids={run_id for _, run_id in pairs})
    for sku_id, run_id in pairs:
        if result[sku_id] is None or etas[run_id] < result[sku_id]:
            result[sku_id] = etas[run_id]
    return result


# --- Factory records and calibrated promise dates --------------------------------

RECORD_RUNS = 20  # a factory's record: its latest received runs


@dataclass(frozen=True)
class FactoryRecord:
    """How late a factory's runs arrived against the ETA it gave when each was booked
    (days; negative = early), latest RECORD_RUNS received runs."""

    factory: str
    slips: tuple[int, ...]

    def usual_slip(self, percentile: int) -> int:
        """The slip that the next run keeps within `percentile` times in 100.

        The k-th smallest of n past slips covers k/(n+1) of future runs on average, so
        the slip sits at rank h = (n+1) * percentile / 100 of the record, and k is the
        first whole rank at or past h (the plain nearest rank, k/n, of a 20-run record
        promised "p90" and covered 87% of runs). A short record's largest slip covers
        only n/(n+1) of runs (ten runs: 91%), so a percentile beyond it (h > n) goes on
        past the largest slip at the pace the record's top quarter climbs: the largest
        slip plus (h - n) times the mean gap between consecutive slips of its top
        quarter (at least two runs), rounded up to a whole day."""
        ordered = sorted(self.slips)
        n = len(ordered)
        if not n:
            return 0
        rank = (n + 1) * percentile / 100
        if rank <= n:
            return ordered[max(math.ceil(rank), 1) - 1]
        top = max(n // 4, 1) if n > 1 else 0
        gap = (ordered[-1] - ordered[-1 - top]) / top if top else 0
        return ordered[-1] + math.ceil((rank - n) * gap)

    def slip_given(self, percentile: int, already: int) -> tuple[int | None, int]:
        """usual_slip among the runs that were at least `already` days late (a run that
        is already that late), and how many those were; None when none was."""
        as_late = FactoryRecord(self.factory, tuple(s for s in self.slips if s >= already))
        return (as_late.usual_slip(percentile) if as_late.slips else None), len(as_late.slips)


@dataclass(frozen=True)
class RunRecord:
    """What a promise on one run adds to its ETA: the ETA the factory first gave, and
    the factory's record (None when the run names no factory)."""

    first_eta: dt.date
    record: FactoryRecord | None


def _with_first_eta(runs: QuerySet) -> QuerySet:
    """Runs with the ETA each was booked with: the oldest ETA change's old ETA, else the
    ETA (the one ETA table and its history are the only source)."""
    booked = EtaChange.objects.filter(run=OuterRef("pk")).order_by("changed_at", "pk")
    return runs.annotate(
        first_eta=Coalesce(Subquery(booked.values("old_eta")[:1]), F("eta"))
    ).values_list("pk", "factory", "first_eta", "arrived_on")


def factory_records(*, factories=None) -> dict[str, FactoryRecord]:
    """Each factory's record: its received runs' arrival against the ETA first given."""
    runs = InboundRun.objects.exclude(factory="").filter(arrived_on__isnull=False)
    if factories is not None:
        runs = runs.filter(factory__in=set(factories))
    return _records_from(list(_with_first_eta(runs)))


def _records_from(rows) -> dict[str, FactoryRecord]:
    """Records from received runs' (pk, factory, first ETA, arrived_on), latest first."""
    slips = defaultdict(list)
    for _, factory, first_eta, arrived_on in sorted(
        rows, key=lambda row: (row[3], row[0]), reverse=True
    ):
        if len(slips[factory]) < RECORD_RUNS:
            slips[factory].append((arrived_on - first_eta).days)
    return {factory: FactoryRecord(factory, tuple(days)) for factory, days in sorted(slips.items())}


def run_records(*, run_ids) -> dict[int, RunRecord]:
    """The first ETA and factory record of each run, for ship_date_from_run: the runs and
    their factories' received runs, in one query."""
    run_ids = set(run_ids)
    if not run_ids:
        return {}
    factories = InboundRun.objects.filter(pk__in=run_ids).exclude(factory="").values("factory")
    rows = list(
        _with_first_eta(
            InboundRun.objects.filter(
                Q(pk__in=run_ids) | Q(factory__in=Subquery(factories), arrived_on__isnull=False)
            )
        )
    )
    records = _records_from([row for row in rows if row[1] and row[3] is not None])
    return {
        pk: RunRecord(
            first_eta, records.get(factory, FactoryRecord(factory, ())) if factory else None
        )
        for pk, factory, first_eta, _ in rows
        if pk in run_ids
    }


def slip_allowance(*, record: RunRecord | None, terms, eta: dt.date | None = None) -> int | None:
    """Days after the ETA it was booked with that a run is allowed to arrive: its
    factory's usual slip at the terms' percentile; the terms' default buffer with too
    little history; None when promises are not calibrated (percentile 0).

    A run whose ETA (`eta`) has already moved later is known to be at least that late:
    it is allowed the slip at the same percentile of the factory's runs that were at
    least as late (a run already late is likelier than most to slip further). Fewer of
    those than the terms' minimum history say too little about how much later it comes:
    it is allowed no less than the terms' default buffer past its ETA."""
    if not terms.promise_slip_percentile:
        return None
    if record is None or record.record is None:
        return terms.promise_default_buffer_days
    if len(record.record.slips) < terms.promise_min_history:
        return terms.promise_default_buffer_days
    percentile = terms.promise_slip_percentile
    already = (eta - record.first_eta).days if eta is not None else 0
    if already <= 0:
        return record.record.usual_slip(percentile)
    given, runs = record.record.slip_given(percentile, already)
    if given is None or runs < terms.promise_min_history:
        return max(given or 0, already + terms.promise_default_buffer_days)
    return given


def promise_basis(*, eta: dt.date, terms, record: RunRecord | None) -> str:
    """What a backorder's date rests on, in words a store reads: the run's ETA and the
    slip its factory's record adds (as ship_date_from_run applies it)."""
    basis = f"ETA {eta:%b} {eta.day}"
    allowance = slip_allowance(record=record, terms=terms, eta=eta) if record is not None else None
    if not allowance or allowance <= 0:
        return basis
    history = record.record.slips if record.record is not None else ()
    if len(history) < terms.promise_min_history:
        return f"{basis}; {allowance} days allowed for a factory with little history"
    already = (eta - record.first_eta).days
    if already >= allowance:
        return f"{basis}; already {already} days later than first planned"
    if already > 0:
        more = allowance - already
        return f"{basis}; already {already} days later than first planned, {more} more allowed"
    return f"{basis}; this factory is usually {allowance} days late"


def ship_date_from_run(
    *,
    eta: dt.date,
    terms,
    today: dt.date | None = None,
    record: RunRecord | None = None,
    window_end: dt.date | None = None,
) -> dt.date:
    """When goods from a run arriving on `eta` ship: receiving days after arrival (a late
    run that has not arrived counts as arriving today). With the run's record, the
    arrival is calibrated: no earlier than the ETA the factory first gave plus the slip
    slip_allowance allows (a run already moved later has used up that much of it), and
    never past the window end unless the ETA itself is (a line placed today must fit the
    window with this date: promise_plan; one whose run moved since is held at it)."""
    today = today or timezone.localdate()
    naive = add_business_days(max(eta, today), terms.receiving_days)
    allowance = slip_allowance(record=record, terms=terms, eta=eta) if record is not None else None
    if not allowance:
        return naive
    arrival = max(eta, record.first_eta + dt.timedelta(days=allowance), today)
    calibrated = add_business_days(arrival, terms.receiving_days)
    if window_end is not None:
        calibrated = min(calibrated, max(naive, window_end))
    return max(calibrated, naive)


def ship_date_from_stock(*, terms, today: dt.date | None = None) -> dt.date:
    return add_business_days(today or timezone.localdate(), terms.processing_days)


def inbound_runs(*, statuses=OPEN_INBOUND_STATUSES, eta_from=None, eta_to=None) -> QuerySet:
    """The production calendar: runs with their lines' totals, by ETA."""
    queryset = InboundRun.objects.filter(status__in=statuses).annotate(
        total_quantity=Sum("lines__quantity"), total_received=Sum("lines__received")
    )
    if eta_from:
        queryset = queryset.filter(eta__gte=eta_from)
    if eta_to:
        queryset = queryset.filter(eta__lte=eta_to)
    return queryset.select_related("warehouse").order_by("eta", "reference")


def inbound_calendar(*, statuses=OPEN_INBOUND_STATUSES) -> QuerySet:
    """The production calendar for the API: runs with their lines and ETA history, in a
    fixed number of queries. Show each run's ETA through run_etas."""
    return (
        InboundRun.objects.filter(status__in=statuses)
        .select_related("warehouse")
        .prefetch_related(
            Prefetch("lines", queryset=InboundLine.objects.select_related("sku").order_by("pk")),
            Prefetch("eta_changes", queryset=EtaChange.objects.order_by("changed_at", "pk")),
        )
        .order_by("eta", "reference")
    )


@dataclass(frozen=True)
class InboundSlot:
    """Unpromised pairs of one SKU on one open run."""

    inbound_line_id: int
    sku_id: int
    run_id: int
    run_reference: str
    eta: dt.date
    available: int
    record: RunRecord | None = None


def inbound_slots_by_sku(*, sku_ids) -> dict[int, list[InboundSlot]]:
    """Open inbound lines with unpromised pairs, earliest ETA first."""
    lines = (
        InboundLine.objects.open()
        .filter(sku_id__in=sku_ids, promised__lt=F("quantity") - F("received"))
        .select_related("run")
    )
    return slots_from_lines(lines)


def slots_from_lines(lines) -> dict[int, list[InboundSlot]]:
    """Unpromised pairs per SKU from inbound lines (with their runs), earliest ETA first."""
    lines = [line for line in lines if line.run.is_open]
    etas = run_etas(run_ids={line.run_id for line in lines})
    records = run_records(run_ids=etas)
    slots = defaultdict(list)
    for line in sorted(lines, key=lambda line: (etas[line.run_id], line.pk)):
        available = line.quantity - line.received - line.promised
        if available > 0:
            slots[line.sku_id].append(
                InboundSlot(
                    line.pk,
                    line.sku_id,
                    line.run_id,
                    line.run.reference,
                    etas[line.run_id],
                    available,
                    records[line.run_id],
                )
            )
    return slots


# --- Future ATS ---------------------------------------------------------------------


@dataclass(frozen=True)
class AvailabilityPoint:
    date: dt.date
    ats: int


def week_dates(*, start: dt.date, weeks: int) -> list[dt.date]:
    return [start + dt.timedelta(weeks=week) for week in range(weeks + 1)]


def future_ats(*, sku_ids, dates: list[dt.date]) -> dict[int, list[AvailabilityPoint]]:
    """Available to promise on each date, per SKU: ATS now plus inbound due by that date
    (open runs) less what is already promised to backorders. One set-based query."""
    sku_ids = list(sku_ids)
    if not sku_ids or not dates:
        return {sku_id: [] for sku_id in sku_ids}
    date_param = "CAST(%s AS date)" if connection.vendor == "postgresql" else "%s"
    weeks_sql = ", ".join(f"({date_param})" for _ in dates)
    sku_placeholders = placeholders(sku_ids)
    status_placeholders = placeholders(OPEN_INBOUND_STATUSES)
    stock = StockLevel._meta.db_table
    inbound_line = InboundLine._meta.db_table
    inbound_run = InboundRun._meta.db_table
    sql = f"""
        WITH weeks(d) AS (VALUES {weeks_sql}),
        now_ats AS (
            SELECT sku_id,
                   SUM(CASE WHEN on_hand - allocated - holdback > 0
                            THEN on_hand - allocated - holdback ELSE 0 END) AS ats
            FROM {stock} WHERE sku_id IN ({sku_placeholders}) GROUP BY sku_id
        ),
        inbound AS (
            SELECT il.sku_id, r.eta, SUM(il.quantity - il.received - il.promised) AS qty
            FROM {inbound_line} il JOIN {inbound_run} r ON r.id = il.run_id
            WHERE il.sku_id IN ({sku_placeholders}) AND r.status IN ({status_placeholders})
            GROUP BY il.sku_id, r.eta
        )
        SELECT s.id, w.d, COALESCE(a.ats, 0) + COALESCE(SUM(i.qty), 0)
        FROM {SKU._meta.db_table} s
        CROSS JOIN weeks w
        LEFT JOIN now_ats a ON a.sku_id = s.id
        LEFT JOIN inbound i ON i.sku_id = s.id AND i.eta <= w.d
        WHERE s.id IN ({sku_placeholders})
        GROUP BY s.id, w.d, a.ats
        ORDER BY s.id, w.d
    """
    params = [*[d.isoformat() for d in dates], *sku_ids, *sku_ids, *OPEN_INBOUND_STATUSES, *sku_ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    series = {sku_id: [] for sku_id in sku_ids}
    for sku_id, day, ats in rows:
        day = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
        series[sku_id].append(AvailabilityPoint(day, int(ats)))
    return series


def style_future_ats(*, style: Style, weeks: int = 12, start: dt.date | None = None):
    """Week-by-week availability of every active SKU of a style, for the style page chart."""
    sku_ids = list(style.skus.filter(active=True).values_list("pk", flat=True))
    return future_ats(
        sku_ids=sku_ids, dates=week_dates(start=start or timezone.localdate(), weeks=weeks)
    )


# --- Promise dates ----------------------------------------------------------------


class NoPromiseReason(StrEnum):
    INACTIVE = "This item is no longer sold."
    NOT_COMMITTED = "This style is not committed to re-production; only stock on hand is offered."
    BACKORDERS_DECLINED = "Backorders were not requested; only stock on hand is offered."
    NOTHING_INBOUND = "No production run is scheduled for this item."
    FULLY_PROMISED = "Everything on the scheduled runs is already promised to earlier orders."
    BEYOND_WINDOW = "The next run is not expected to ship before the backorder window ends."
    BEYOND_HORIZON = "The next run ships beyond the furthest date we promise."


@dataclass(frozen=True)
class PromisePart:
    quantity: int
    ships_by: dt.date
    inbound_line_id: int | None = None
    run_reference: str | None = None
    eta: dt.date | None = None

    @property
    def from_stock(self):
        return self.inbound_line_id is None


@dataclass(frozen=True)
class Promise:
    """The honest answer for one SKU and quantity: what ships from stock and when, what
    waits for which run and when it ships, and what cannot be promised and why."""

    sku_id: int
    requested: int
    parts: tuple[PromisePart, ...] = field(default_factory=tuple)
    unpromised: int = 0
    reason: str = ""

    @property
    def from_stock(self) -> int:
        return sum(part.quantity for part in self.parts if part.from_stock)

    @property
    def backordered(self) -> int:
        return sum(part.quantity for part in self.parts if not part.from_stock)

    @property
    def ships_by(self) -> dt.date | None:
        return max((part.ships_by for part in self.parts), default=None)

    @property
    def inbound_parts(self):
        return [part for part in self.parts if not part.from_stock]


def promise_plan(
    *,
    sku: SKU,
    quantity: int,
    ats: int,
    slots: list[InboundSlot],
    terms,
    window_end: dt.date | None,
    allow_backorder: bool,
    today: dt.date | None = None,
) -> Promise:
    """Plan a promise from figures already read (or locked): stock first, then the
    earliest runs with unpromised pairs that ship inside the window and the horizon."""
    today = today or timezone.localdate()
    if not sku.active:
        return Promise(sku.pk, quantity, (), quantity, NoPromiseReason.INACTIVE)
    parts = []
    from_stock = min(quantity, max(ats, 0))
    if from_stock:
        parts.append(PromisePart(from_stock, ship_date_from_stock(terms=terms, today=today)))
    remaining = quantity - from_stock
    if remaining == 0:
        return Promise(sku.pk, quantity, tuple(parts))
    if not allow_backorder:
        return Promise(
            sku.pk, quantity, tuple(parts), remaining, NoPromiseReason.BACKORDERS_DECLINED
        )
    if sku.style.replenishment != Replenishment.COMMITTED:
        return Promise(sku.pk, quantity, tuple(parts), remaining, NoPromiseReason.NOT_COMMITTED)
    if not slots:
        return Promise(sku.pk, quantity, tuple(parts), remaining, _empty_schedule_reason(sku))
    horizon_end = today + dt.timedelta(days=terms.promise_horizon_days)
    last_date = min(window_end, horizon_end) if window_end else horizon_end
    reason = ""
    for slot in slots:
        # The date promised is the one the factory's record expects (calibrated), and it
        # is that date that must fit: held at the window end, it would be a promise the
        # record says is likely to be broken. A run moved later may expect an earlier
        # date than one due before it, so a run that does not fit is passed over; past
        # the window by its ETA alone, no later run fits either.
        naive = ship_date_from_run(eta=slot.eta, terms=terms, today=today)
        ships_by = ship_date_from_run(eta=slot.eta, terms=terms, today=today, record=slot.record)
        if ships_by > last_date:
            reason = (
                NoPromiseReason.BEYOND_WINDOW
                if window_end and ships_by > window_end
                else NoPromiseReason.BEYOND_HORIZON
            )
            if naive > last_date:
                break
            continue
        take = min(remaining, slot.available)
        parts.append(
            PromisePart(take, ships_by, slot.inbound_line_id, slot.run_reference, slot.eta)
        )
        remaining -= take
        if remaining == 0:
            break
    if not remaining:
        reason = ""
    elif not reason:
        reason = NoPromiseReason.FULLY_PROMISED
    return Promise(sku.pk, quantity, tuple(parts), remaining, reason)


def _empty_schedule_reason(sku):
    """No unpromised slot: either nothing is scheduled at all, or it is all promised."""
    scheduled = InboundLine.objects.open().filter(sku=sku).exists()
    return NoPromiseReason.FULLY_PROMISED if scheduled else NoPromiseReason.NOTHING_INBOUND


def promise_for(
    *,
    sku: SKU,
    quantity: int,
    terms,
    window_end: dt.date | None = None,
    allow_backorder: bool = True,
    today: dt.date | None = None,
) -> Promise:
    """ "Can I get it, and when?" for one SKU: ships by D from stock, by D from run R, or
    cannot be promised with the reason. Ordering and backorders both use promise_plan."""
    return promise_plan(
        sku=sku,
        quantity=quantity,
        ats=ats_by_sku(sku_ids=[sku.pk])[sku.pk],
        slots=inbound_slots_by_sku(sku_ids=[sku.pk]).get(sku.pk, []),
        terms=terms,
        window_end=window_end,
        allow_backorder=allow_backorder,
        today=today,
    )


def promises_for(
    *, skus, quantities: dict[int, int], terms, window_end=None, allow_backorder=True, today=None
) -> dict[int, Promise]:
    """promise_for over many SKUs in a fixed number of queries (the order review page)."""
    sku_ids = [sku.pk for sku in skus]
    ats = ats_by_sku(sku_ids=sku_ids)
    slots = inbound_slots_by_sku(sku_ids=sku_ids)
    return {
        sku.pk: promise_plan(
            sku=sku,
            quantity=quantities[sku.pk],
            ats=ats[sku.pk],
            slots=slots.get(sku.pk, []),
            terms=terms,
            window_end=window_end,
            allow_backorder=allow_backorder,
            today=today,
        )
        for sku in skus
    }


# --- The catalogue ------------------------------------------------------------------

CATALOGUE_ORDER = ("style__number", "color", "size", "width", "id")
# The catalogue's order first, then the rest of what a row shows (CatalogueItem's order).
CATALOGUE_COLUMNS = (
    *CATALOGUE_ORDER,
    "code",
    "upc",
    "style__replenishment",
    "list_price",  # the price under the caller's price list (inventory.pricing)
    "msrp",
    "core",
)
WIDTH_LABELS = dict(Width.choices)


class CatalogueItem(NamedTuple):
    """One SKU as the catalogue lists it: ATS now, and the next ETA (from next_eta_by_sku)."""

    style_number: str
    color: str
    size: Decimal
    width: int
    sku_id: int
    code: str
    upc: str
    replenishment: str
    price: Decimal
    msrp: Decimal
    core: bool
    ats: int
    next_eta: dt.date | None

    size_label = SKU.size_label  # the SKU's own formatting of its size

    @property
    def width_label(self) -> str:
        return WIDTH_LABELS[self.width]

    @classmethod
    def from_row(cls, row: tuple, next_eta: dt.date | None) -> "CatalogueItem":
        """A row of CATALOGUE_COLUMNS and ATS, with the SKU's next ETA."""
        item = cls._make((*row, next_eta))
        if isinstance(item.price, Decimal):
            return item
        # SQLite hands decimals back as int or float.
        return item._replace(
            size=Decimal(str(item.size)),
            price=Decimal(str(item.price)).quantize(CENT),
            msrp=Decimal(str(item.msrp)).quantize(CENT),
        )


class CatalogueQuery:
    """A filtered catalogue, compiled to SQL once and then read page by page: its count,
    and its rows in catalogue order with ATS now and the next ETA. Sliced like a queryset
    (`query[100:150]`), so Django's Paginator can page it.

    Building and compiling the queries with the ORM took longer than PostgreSQL takes to
    answer them, on every page; the SQL of a filter never changes, so a caller may keep
    the object and read it again (every read runs the queries afresh). The ORM still
    writes the SQL of the filters and the order; around it, the stock is summed for the
    page's rows only (a subquery in the paged query would also run for every row the
    OFFSET skips)."""

    def __init__(self, skus: QuerySet):
        """`skus`: the SKUs to list, priced (inventory.pricing.priced) and filtered as the
        caller likes; any order is replaced."""
        self.db = skus.db
        ordered = skus.order_by(*CATALOGUE_ORDER).values_list(*CATALOGUE_COLUMNS)
        try:
            rows_sql, self.rows_params = ordered.query.get_compiler(self.db).as_sql()
            ids = skus.order_by().values("id")
            ids_sql, self.count_params = ids.query.get_compiler(self.db).as_sql()
        except EmptyResultSet:  # a filter that can match nothing, e.g. pk__in=[]
            self.count_sql = self.page_sql = None
            return
        self.count_sql = f"SELECT COUNT(*) FROM ({ids_sql}) skus"
        ats = "l.on_hand - l.allocated - l.holdback"  # per level, never below 0: ats_expression
        self.page_sql = f"""
            SELECT page.*,
                   COALESCE((SELECT SUM(CASE WHEN {ats} > 0 THEN {ats} ELSE 0 END)
                             FROM {StockLevel._meta.db_table} l WHERE l.sku_id = page.id), 0)
            FROM ({rows_sql} LIMIT %s OFFSET %s) page
            ORDER BY {", ".join(str(n) for n in range(1, len(CATALOGUE_ORDER) + 1))}
        """

    def _fetch(self, sql, params) -> list[tuple]:
        with connections[self.db].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def count(self) -> int:
        if self.count_sql is None:
            return 0
        return self._fetch(self.count_sql, self.count_params)[0][0]

    def __getitem__(self, rows: slice) -> list[CatalogueItem]:
        """Rows rows.start to rows.stop (a slice with both ends, as the Paginator takes)."""
        if self.page_sql is None or rows.stop <= rows.start:
            return []
        found = self._fetch(self.page_sql, [*self.rows_params, rows.stop - rows.start, rows.start])
        sku_id_at = CATALOGUE_COLUMNS.index("id")
        next_etas = next_eta_by_sku(sku_ids=[row[sku_id_at] for row in found])
        return [CatalogueItem.from_row(row, next_etas[row[sku_id_at]]) for row in found]


def skus_search(
    *, q: str = "", style: str = "", core: bool | None = None, category: str = ""
) -> QuerySet:
    queryset = SKU.objects.active().select_related("style")
    if style:
        queryset = queryset.filter(style__number__iexact=style)
    if category:
        queryset = queryset.filter(style__category__iexact=category)
    if core is not None:
        queryset = queryset.filter(core=core)
    return queryset.matching(q)


# --- Pictures -----------------------------------------------------------------------


@dataclass(frozen=True)
class Picture:
    """A style picture's sizes (URLs) and its alt text."""

    thumb: str
    card: str
    large: str
    alt: str


def pictures_by_style(*, style_ids) -> dict[int, dict[str, list[Picture]]]:
    """The pictures of each style by colour ("" holds those for every colour), in display
    order. One query, whatever the number of styles."""
    rows = (
        StyleImage.objects.filter(style_id__in=list(style_ids))
        .order_by("style_id", "color", "position", "pk")
        .values_list("style_id", "style__name", "color", "alt_text", "thumb", "card", "large")
    )
    result: dict[int, dict[str, list[Picture]]] = defaultdict(lambda: defaultdict(list))
    for style_id, name, color, alt, thumb, card, large in rows:
        if not alt:
            alt = f"{name} in {color}" if color else name
        urls = [default_storage.url(path) if path else "" for path in (thumb, card, large)]
        result[style_id][color].append(Picture(*urls, alt))
    return result


def pictures_of(pictures: dict[str, list[Picture]] | None, color: str = "") -> list[Picture]:
    """A colour's pictures (else those for every colour); no colour: the style's first."""
    if not pictures:
        return []
    if color:
        return pictures.get(color) or pictures.get("", [])
    return pictures.get("") or next(iter(pictures.values()), [])


# --- The catalogue page: one card per style -----------------------------------------------


@dataclass(frozen=True)
class StyleCard:
    """A style as the catalogue page shows it, over the SKUs that matched the filters."""

    number: str
    name: str
    category: str
    colors: list[str]
    ats: int
    price: PriceRange
    msrp: PriceRange
    core: bool
    quick_ship: bool
    picture: Picture | None


def catalogue_page(*, skus: QuerySet, page: int | str, per_page: int = 24) -> Page:
    """A page of styles with a matching SKU (by style number), each as a StyleCard: its
    matching colours, pairs available now, price range (`skus` carries `list_price`) and
    MSRP range, and a picture. Four queries, whatever the page size or data size."""
    styles = Style.objects.filter(pk__in=skus.order_by().values("style_id")).order_by("number")
    paginator = Paginator(styles.values_list("pk", "number", "name", "category"), per_page)
    page = paginator.get_page(page)
    style_ids = [row[0] for row in page.object_list]
    rows = (
        skus.filter(style_id__in=style_ids)
        .with_ats()
        .order_by("style_id", "color")
        .values_list("style_id", "color", "list_price", "msrp", "ats_now", "core", "quick_ship")
    )
    by_style = defaultdict(list)
    for row in rows:
        by_style[row[0]].append(row)
    pictures = pictures_by_style(style_ids=style_ids)
    page.object_list = [
        _card(row, by_style[row[0]], pictures.get(row[0])) for row in page.object_list
    ]
    return page


def _card(style_row, sku_rows, pictures) -> StyleCard:
    style_id, number, name, category = style_row
    colors = list(dict.fromkeys(row[1] for row in sku_rows))
    first_picture = next(iter(pictures_of(pictures, colors[0] if colors else "")), None)
    return StyleCard(
        number=number,
        name=name,
        category=category,
        colors=colors,
        ats=sum(int(row[4] or 0) for row in sku_rows),
        price=PriceRange.of(Decimal(str(row[2])).quantize(CENT) for row in sku_rows),
        msrp=PriceRange.of(Decimal(str(row[3])).quantize(CENT) for row in sku_rows),
        core=any(row[5] for row in sku_rows),
        quick_ship=any(row[6] for row in sku_rows),
        picture=first_picture,
    )


def stock_takes(*, levels, sku_id: int, quantity: int) -> list[tuple[StockLevel, int]]:
    """Which of a SKU's stock levels give up to `quantity` pairs, and how many each:
    default warehouse first, then by pk. Less in total if ATS is short. A plan from the
    figures given; the ledger (orders.ledger) moves the counters."""
    taken = []
    remaining = quantity
    candidates = sorted(
        (level for level in levels if level.sku_id == sku_id),
        key=lambda level: (not level.warehouse.is_default, level.pk),
    )
    for level in candidates:
        take = min(remaining, level.ats)
        if take <= 0:
            continue
        taken.append((level, take))
        remaining -= take
        if remaining == 0:
            break
    return taken

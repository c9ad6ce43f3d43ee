"""Page assembly for the retailer and rep pages: each page's data comes from the owning
apps' selectors; this module only puts it together for one template."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Q
from django.utils import timezone

from backorders.models import DecisionRequest, DecisionStatus
from inventory.models import EtaChange, InboundLine, InboundRun, InboundStatus, Style
from inventory.selectors import inbound_runs, run_etas, style_future_ats
from orders import rules
from orders import selectors as order_selectors
from orders.models import Account, CommercialTerms

CALENDAR_WEEKS = 12


# --- Dashboard ----------------------------------------------------------------------


@dataclass
class Dashboard:
    account: Account | None
    open_orders: list = field(default_factory=list)
    open_order_count: int = 0
    backorders: list = field(default_factory=list)
    backordered_line_count: int = 0
    backordered_pairs: int = 0
    decisions: list = field(default_factory=list)
    shipments: list = field(default_factory=list)
    invoices: list = field(default_factory=list)
    invoice_totals: dict = field(default_factory=dict)
    core_list: list = field(default_factory=list)
    feed: list = field(default_factory=list)
    unread: int = 0


def pending_decisions(*, account: Account, limit: int = 5) -> list:
    """Late-ETA decision requests of the account still waiting for an answer, soonest
    deadline first."""
    return list(
        DecisionRequest.objects.filter(line__order__account=account, status=DecisionStatus.PENDING)
        .select_related("line__order", "line__sku__style")
        # What the pages show of each: whole rows of four tables cost twice as much to load.
        .only(
            "line_id",
            "quantity",
            "old_date",
            "new_date",
            "deadline",
            "line__order__number",
            "line__sku__color",
            "line__sku__size",
            "line__sku__width",
            "line__sku__style__name",
        )
        .order_by("deadline", "pk")[:limit]
    )


def notification_feed(*, user, limit: int = 5) -> tuple[list, int]:
    """The user's latest messages and unread count."""
    from notifications.selectors import feed_for_user, message_link, unread_count

    messages = feed_for_user(user=user, limit=limit)
    for message in messages:
        message.link = message_link(message)
    return messages, unread_count(user=user)


def dashboard_for(*, user, account: Account | None) -> Dashboard:
    dashboard = Dashboard(account=account)
    dashboard.feed, dashboard.unread = notification_feed(user=user)
    if account is None:
        return dashboard
    dashboard.open_orders, dashboard.open_order_count = order_selectors.open_orders(account=account)
    (
        dashboard.backorders,
        dashboard.backordered_line_count,
        dashboard.backordered_pairs,
    ) = order_selectors.backordered_lines(accounts=[account])
    dashboard.decisions = pending_decisions(account=account)
    dashboard.shipments = order_selectors.shipments_recent(account=account)
    dashboard.invoices, dashboard.invoice_totals = order_selectors.invoices_due(account=account)
    dashboard.core_list = order_selectors.core_list(account=account)
    return dashboard


# --- Future availability chart -------------------------------------------------------

PALETTE = ["#1f6f5c", "#7a3b12", "#2a6fdb", "#9a5b00", "#6b4fa0", "#a11d2b", "#3f7f1f"]


def style_availability(*, style: Style, weeks: int = CALENDAR_WEEKS, start=None) -> dict:
    """Week-by-week pairs available per colour of a style (future ATS summed over its
    sizes and widths), shaped for the chart and its table."""
    series = style_future_ats(style=style, weeks=weeks, start=start)
    colors = dict(style.skus.filter(pk__in=series.keys()).values_list("pk", "color"))
    by_color = defaultdict(lambda: defaultdict(int))
    dates = set()
    for sku_id, points in series.items():
        for point in points:
            by_color[colors[sku_id]][point.date] += point.ats
            dates.add(point.date)
    dates = sorted(dates)
    rows = [
        {"color": color, "values": [by_color[color][day] for day in dates]}
        for color in sorted(by_color)
    ]
    return {
        "style": style,
        "dates": dates,
        "rows": rows,
        "chart": {
            "type": "line",
            "labels": ["Now" if i == 0 else f"{day:%b} {day.day}" for i, day in enumerate(dates)],
            "datasets": [
                {"label": row["color"], "data": row["values"], "color": PALETTE[i % len(PALETTE)]}
                for i, row in enumerate(rows)
            ],
            "yTitle": "Pairs available",
        },
    }


# --- Production calendar -------------------------------------------------------------


@dataclass
class CalendarRun:
    run: InboundRun
    eta: dt.date
    column: int  # 1 = overdue, 2.. = week columns
    styles: list
    pairs: int
    moves: list  # EtaChange rows, newest first
    moved_from_column: int | None

    @property
    def overdue(self):
        return self.column == 1


@dataclass
class Calendar:
    weeks: list
    runs: list
    categories: list
    styles: list
    category: str
    style: str


def _week_column(*, eta: dt.date, start: dt.date, today: dt.date, weeks: int) -> int | None:
    """1 for an ETA already passed (the run is late), else 2 + the week it falls in."""
    if eta < today:
        return 1
    index = (eta - start).days // 7
    return index + 2 if index < weeks else None


def production_calendar(
    *, category: str = "", style: str = "", weeks: int = CALENDAR_WEEKS, today=None
) -> Calendar:
    """Open inbound runs due in the coming weeks (and overdue ones), with their styles,
    ETA (read through run_etas), status, and every ETA move."""
    today = today or timezone.localdate()
    start = today - dt.timedelta(days=today.weekday())  # this week's Monday
    end = start + dt.timedelta(weeks=weeks) - dt.timedelta(days=1)
    runs = inbound_runs(eta_to=end)
    line_filter = Q()
    if category:
        line_filter &= Q(sku__style__category__iexact=category)
    if style:
        line_filter &= Q(sku__style__number__iexact=style)
    if category or style:
        runs = runs.filter(pk__in=InboundLine.objects.filter(line_filter).values("run_id"))
    runs = list(
        runs.prefetch_related(
            Prefetch(
                "lines",
                queryset=InboundLine.objects.filter(line_filter)
                .select_related("sku__style")
                .order_by("sku__style__number"),
            ),
            Prefetch("eta_changes", queryset=EtaChange.objects.order_by("-changed_at", "-pk")),
        )
    )
    etas = run_etas(run_ids={run.pk for run in runs})
    rows = []
    for run in runs:
        eta = etas[run.pk]
        column = _week_column(eta=eta, start=start, today=today, weeks=weeks)
        if column is None:
            continue
        styles = {}
        pairs = 0
        for line in run.lines.all():
            styles.setdefault(line.sku.style.number, line.sku.style)
            pairs += line.quantity - line.received
        moves = list(run.eta_changes.all())
        moved_from = (
            _week_column(eta=moves[0].old_eta, start=start, today=today, weeks=weeks)
            if moves
            else None
        )
        rows.append(CalendarRun(run, eta, column, list(styles.values()), pairs, moves, moved_from))
    rows.sort(key=lambda row: (row.eta, row.run.reference))
    filters = Style.objects.filter(
        skus__inbound_lines__run__status__in=[
            InboundStatus.PLANNED,
            InboundStatus.CONFIRMED,
            InboundStatus.IN_TRANSIT,
        ]
    ).distinct()
    style_choices = list(filters.order_by("number").values_list("number", "name"))
    categories = sorted(set(filters.values_list("category", flat=True)))
    week_starts = [start + dt.timedelta(weeks=i) for i in range(weeks)]
    return Calendar(week_starts, rows, categories, style_choices, category, style)


# --- Scorecard -----------------------------------------------------------------------


def _percent(value: Decimal | None):
    return None if value is None else float(round(value, 1))


def scorecard(*, account: Account | None, days: int = 90) -> dict:
    """The account's delivery figures next to the brand-wide ones, and the chart data."""
    brand = order_selectors.delivery_scorecard(days=days)
    mine = order_selectors.delivery_scorecard(account=account, days=days) if account else None
    labels = ["Fill rate", "On time", "ETA changes told in advance"]

    def values(card):
        return [
            _percent(card.fill_rate),
            _percent(card.on_time_rate),
            _percent(card.in_advance_rate),
        ]

    datasets = [{"label": "Brand-wide", "data": values(brand), "color": "#9aa4ab"}]
    if mine is not None:
        datasets.insert(0, {"label": account.name, "data": values(mine), "color": "#1f6f5c"})
    return {
        "days": days,
        "account": mine,
        "brand": brand,
        "chart": {
            "type": "bar",
            "labels": labels,
            "datasets": datasets,
            "yTitle": "Percent",
            "max": 100,
        },
    }


# --- Policies ------------------------------------------------------------------------


@dataclass(frozen=True)
class Policies:
    """Every figure the policies page publishes, computed by the same rule functions
    the ordering and invoicing code enforces."""

    terms: CommercialTerms
    account: Account | None
    opening_minimum: Decimal
    fill_in_minimum_pairs: int
    free_freight_threshold: Decimal
    flat_freight: Decimal
    payment_terms: str
    payment_terms_days: int
    credit_limit: Decimal
    past_due_hold_days: int
    backorder_window_days: int
    accepts_backorders: bool
    decision_deadline_days: int
    decision_default: str
    overdue_grace_business_days: int
    factory_delay_days: int
    processing_days: int
    receiving_days: int
    promise_slip_percentile: int
    promise_default_buffer_days: int
    promise_min_history: int
    promise_horizon_days: int
    returns_window_days: int
    defect_claim_days: int
    restocking_fee_percent: Decimal
    example_due_date: dt.date
    example_issued_on: dt.date


def policies_for(*, account: Account | None, today=None) -> Policies:
    terms = rules.current_terms()
    subject = account if account is not None else Account()  # brand defaults: no overrides
    threshold = rules.free_freight_threshold(account=subject, terms=terms)
    below = rules.freight_quote(account=subject, terms=terms, subtotal=threshold - Decimal("0.01"))
    at = rules.freight_quote(account=subject, terms=terms, subtotal=threshold)
    today = today or timezone.localdate()
    return Policies(
        terms=terms,
        account=account,
        opening_minimum=terms.opening_order_minimum,
        fill_in_minimum_pairs=terms.fill_in_minimum_pairs,
        free_freight_threshold=at.threshold,
        flat_freight=below.freight,
        payment_terms=rules.payment_terms_label(account=subject, terms=terms),
        payment_terms_days=rules.payment_terms_days(account=subject, terms=terms),
        credit_limit=rules.credit_limit(account=subject, terms=terms),
        past_due_hold_days=rules.past_due_hold_days(account=subject, terms=terms),
        backorder_window_days=rules.backorder_window_days(account=subject, terms=terms),
        accepts_backorders=subject.accepts_backorders,
        decision_deadline_days=terms.decision_deadline_days,
        overdue_grace_business_days=terms.overdue_grace_business_days,
        factory_delay_days=terms.factory_delay_days,
        decision_default=subject.get_decision_default_display(),
        processing_days=terms.processing_days,
        receiving_days=terms.receiving_days,
        promise_slip_percentile=terms.promise_slip_percentile,
        promise_default_buffer_days=terms.promise_default_buffer_days,
        promise_min_history=terms.promise_min_history,
        promise_horizon_days=terms.promise_horizon_days,
        returns_window_days=terms.returns_window_days,
        defect_claim_days=terms.defect_claim_days,
        restocking_fee_percent=terms.restocking_fee_percent,
        example_due_date=rules.invoice_due_date(account=subject, terms=terms, issued_on=today),
        example_issued_on=today,
    )


# --- Reps ----------------------------------------------------------------------------


def rep_account_page(*, rep, account: Account) -> dict:
    orders, open_count = order_selectors.open_orders(account=account, limit=20)
    backorders, line_count, pairs = order_selectors.backordered_lines(accounts=[account], limit=50)
    return {
        "account": account,
        "open_orders": orders,
        "open_order_count": open_count,
        "backorders": backorders,
        "backordered_line_count": line_count,
        "backordered_pairs": pairs,
        "decisions": pending_decisions(account=account, limit=20),
    }

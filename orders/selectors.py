"""Read use cases for accounts and orders."""

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal

import django_filters
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from inventory.models import SKU, EtaChange, Style, Width
from inventory.pricing import PriceRange, price_expression
from inventory.selectors import pictures_by_style, pictures_of
from inventory.sql import ids_in
from orders.credit_selectors import credit_hold_reasons_for
from orders.models import (
    Account,
    BackorderPeg,
    CartLine,
    CommercialTerms,
    CreditStatus,
    Invoice,
    InvoiceStatus,
    Membership,
    MembershipRole,
    Order,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentLine,
)
from orders.pricing import account_price_list, account_prices


def accounts_visible_to(*, user) -> QuerySet[Account]:
    """The one answer to "which accounts may this user see". Every view and API uses it."""
    return Account.objects.visible_to(user)


def account_history_start(*, account: Account) -> dt.date:
    """The first day the account has a history: opened, or its first invoice (the demo
    data and imports carry invoices from before the account row was made). A statement
    before it shows nothing."""
    first_invoice = Invoice.objects.filter(account=account).aggregate(first=Min("issued_on"))
    opened = timezone.localdate(account.created_at)
    return min(filter(None, [opened, first_invoice["first"]]))


def account_for_user(*, user, account_id) -> Account | None:
    """The account with this id if the user may see it, else None (also for an id that
    is not a whole number, e.g. a tampered form field)."""
    try:
        account_id = int(str(account_id).strip())
    except (TypeError, ValueError):
        return None
    return accounts_visible_to(user=user).filter(pk=account_id).first()


def user_can_order(*, user, account: Account, members=None) -> bool:
    """Buyers order for their account; a rep orders for the accounts assigned to them.
    `members`: the account's memberships, when the caller has read them."""
    if not user.is_authenticated or not user.is_active or not account.is_active:
        return False
    if user.is_sales_rep and account.rep_id == user.pk:
        return True
    if members is not None:
        return any(m.user_id == user.pk and m.role == MembershipRole.BUYER for m in members)
    return Membership.objects.filter(user=user, account=account, role=MembershipRole.BUYER).exists()


@dataclass(frozen=True)
class LinePromise:
    date: dt.date
    eta: dt.date
    record: object
    terms: CommercialTerms

    @property
    def basis(self) -> str:
        """Why the date is what it is ("ETA Jan 12; this factory is usually 9 days late")."""
        from inventory.selectors import promise_basis

        return promise_basis(eta=self.eta, terms=self.terms, record=self.record)


def line_promises(*, lines, pegs=None, known_terms=()) -> dict[int, LinePromise]:
    """Each backordered line's expected date from the run that ships it last, with what
    it rests on. Lines without pegs are absent. `pegs`: the lines' pegs as (line id, run
    id, terms id, window end), when the caller has read them; `known_terms`: terms it
    holds already (neither is read again)."""
    return line_id_promises(
        line_ids=[line.pk for line in lines], pegs=pegs, known_terms=known_terms
    )


# A peg as line_id_promises reads it: (line id, run id, terms id, window end).
_PROMISE_COLUMNS = ("line_id", "inbound_line__run_id", "line__order__terms_id", "line__window_end")


def run_lines_pegs(*, run_id) -> list[tuple]:
    """Every peg of the lines pegged to this run, as line_promises takes them. Read by
    the run: given the 20,000 ids of an ETA change's lines instead, PostgreSQL scans
    the order lines and inbound lines whole (236 ms at 100x, against 71 ms)."""
    on_run = BackorderPeg.objects.filter(inbound_line__run_id=run_id).values("line_id")
    return list(
        BackorderPeg.objects.filter(line_id__in=Subquery(on_run)).values_list(*_PROMISE_COLUMNS)
    )


def line_id_promises(*, line_ids, pegs=None, known_terms=()) -> dict[int, LinePromise]:
    """line_promises of the lines with these ids (for a caller that read them as values)."""
    from inventory.selectors import run_etas, run_records, ship_date_from_run

    if not line_ids:
        return {}
    if pegs is None:
        pegs = list(
            BackorderPeg.objects.filter(ids_in("line_id", line_ids)).values_list(*_PROMISE_COLUMNS)
        )
    if not pegs:
        return {}
    etas = run_etas(run_ids={run_id for _, run_id, _, _ in pegs})
    records = run_records(run_ids=etas)
    terms = {t.pk: t for t in known_terms}
    missing = {terms_id for _, _, terms_id, _ in pegs} - terms.keys()
    if missing:
        terms.update((t.pk, t) for t in CommercialTerms.objects.filter(pk__in=missing))
    # Once per run, terms and window: an ETA change asks for 20,000 lines of one run.
    # From the ETA as recorded even once it has passed: a late run's lines keep their
    # date until an ETA change is recorded (the overdue job sees that one is), never
    # sliding a day at a time.
    promises = {
        (run_id, terms_id, window_end): LinePromise(
            ship_date_from_run(
                eta=etas[run_id],
                terms=terms[terms_id],
                today=etas[run_id],
                record=records[run_id],
                window_end=window_end,
            ),
            etas[run_id],
            records[run_id],
            terms[terms_id],
        )
        for run_id, terms_id, window_end in {tuple(peg[1:]) for peg in pegs}
    }
    latest = {}
    for line_id, *key in pegs:
        promise = promises[tuple(key)]
        if line_id not in latest or promise.date > latest[line_id].date:
            latest[line_id] = promise
    return latest


def lines_dated(lines: list[OrderLine]) -> None:
    """Set each line's `expected_date` and `expected_basis` (what it rests on) from
    line_promises: None and "" for a line without pegs."""
    promises = line_promises(lines=lines)
    for line in lines:
        promise = promises.get(line.pk)
        line.expected_date = promise.date if promise else None
        line.expected_basis = promise.basis if promise else ""


def line_expected_dates(*, lines) -> dict[int, dt.date]:
    """The expected ship date of each backordered line, derived from its pegs' runs' ETAs
    (the latest of them) and their factories' records, never copied. Lines without pegs
    are absent."""
    return {line_id: promise.date for line_id, promise in line_promises(lines=lines).items()}


# --- Dashboard, rep and scorecard reads ---------------------------------------------


def open_orders(*, account: Account, limit: int = 5) -> tuple[list, int]:
    """The account's open orders (newest first, at most `limit`) and how many there are."""
    queryset = Order.objects.filter(account=account).open()
    # The newest `limit` first, then their lines summed: an account with thousands of
    # open orders costs the same as one with five.
    newest = queryset.order_by("-placed_at", "-pk").values("pk")[:limit]
    rows = list(
        Order.objects.filter(pk__in=Subquery(newest))
        .annotate(
            line_count=Count("lines"),
            open_pairs=Sum("lines__allocated") + Sum("lines__backordered"),
        )
        .order_by("-placed_at", "-pk")
    )
    return rows, queryset.count()


def backordered_lines(*, accounts, limit: int = 8) -> tuple[list, int, int]:
    """Backordered lines of these accounts, oldest order first, each with
    `expected_date` and `expected_basis` set from line_promises; plus the line count and
    pairs."""
    queryset = OrderLine.objects.filter(order__account__in=accounts).backordered()
    totals = queryset.aggregate(lines=Count("pk"), pairs=Sum("backordered"))
    rows = list(
        queryset.select_related("order__account", "sku__style").order_by("order__placed_at", "pk")[
            :limit
        ]
    )
    lines_dated(rows)
    return rows, totals["lines"] or 0, totals["pairs"] or 0


def shipments_recent(*, account: Account, days: int = 10, limit: int = 5) -> list:
    """Shipments that left in the last `days` days (likely still in transit)."""
    since = timezone.now() - dt.timedelta(days=days)
    return list(
        Shipment.objects.filter(order__account=account, shipped_at__gte=since)
        .select_related("order")
        .annotate(pairs=Sum("lines__quantity"))
        .order_by("-shipped_at", "-pk")[:limit]
    )


def invoices_due(*, account: Account, limit: int = 5) -> tuple[list, dict]:
    """Unpaid invoices, soonest due first, and the totals (count, balance, overdue)."""
    balance = ExpressionWrapper(
        F("total") - F("paid_amount") - F("credited_amount"),
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )
    queryset = Invoice.objects.filter(
        account=account, status__in=[InvoiceStatus.OPEN, InvoiceStatus.OVERDUE]
    )
    today = timezone.localdate()
    totals = queryset.aggregate(
        count=Count("pk"),
        balance=Sum(balance),
        overdue=Count("pk", filter=Q(due_on__lt=today)),
    )
    totals["balance"] = totals["balance"] or Decimal("0.00")
    rows = list(queryset.annotate(balance=balance).order_by("due_on", "pk")[:limit])
    for invoice in rows:
        invoice.is_overdue = invoice.due_on < today
    return rows, totals


def core_list(*, account: Account, limit: int = 8) -> list:
    """Core-list SKUs with ATS now, the account's price (`account_price`) and its usual
    quantity (its last ordered quantity of that SKU); SKUs the account has ordered come
    first.

    Two bounded queries instead of one over the whole core list: the core SKUs the
    account has ordered (its own order lines, by index), then, if fewer than `limit`,
    the first other core SKUs in catalogue order (sorted by the database, as before)."""
    last_quantity = (
        OrderLine.objects.filter(order__account=account, sku=OuterRef("pk"))
        .order_by("-order__placed_at", "-pk")
        .values("quantity")[:1]
    )
    ordered_skus = OrderLine.objects.filter(order__account=account).values("sku_id")
    price = price_expression(account_price_list(account=account))
    core = (
        SKU.objects.active().filter(core=True).select_related("style").annotate(account_price=price)
    )
    rows = list(
        core.filter(pk__in=Subquery(ordered_skus))
        .annotate(usual_quantity=Subquery(last_quantity))
        .with_ats()
        .order_by(F("usual_quantity").desc(nulls_last=True), "style__number", "color", "size")[
            :limit
        ]
    )
    if len(rows) < limit:
        others = (
            core.exclude(pk__in=Subquery(ordered_skus))
            .with_ats()
            .order_by("style__number", "color", "size")[: limit - len(rows)]
        )
        for sku in others:
            sku.usual_quantity = None
            rows.append(sku)
    return rows


def rep_accounts(*, rep) -> QuerySet[Account]:
    """The accounts assigned to a sales rep (Account.rep), with open orders and
    backordered pairs counted in SQL."""
    if not getattr(rep, "is_sales_rep", False):
        return Account.objects.none()
    backordered = (
        OrderLine.objects.filter(order__account=OuterRef("pk"), backordered__gt=0)
        .order_by()
        .values("order__account")
        .annotate(pairs=Sum("backordered"))
        .values("pairs")
    )
    return (
        Account.objects.filter(rep=rep, is_active=True)
        .annotate(
            open_order_count=Count(
                "orders", filter=Q(orders__status__in=["open", "partially_shipped"])
            ),
            backordered_pairs=Coalesce(
                Subquery(backordered, output_field=IntegerField()), Value(0)
            ),
        )
        .order_by("name")
    )


def rep_account(*, rep, account_id) -> Account | None:
    """One of the rep's own assigned accounts, or None (never an unassigned one)."""
    try:
        account_id = int(account_id)
    except (TypeError, ValueError):
        return None
    return rep_accounts(rep=rep).filter(pk=account_id).first()


@dataclass(frozen=True)
class Scorecard:
    """Delivery performance over a period. A rate is None when there is nothing to
    measure ("no data"), never a flattering 100%."""

    lines_due: int
    ordered_pairs: int
    shipped_pairs: int
    lines_measured: int
    lines_on_time: int
    lines_late: int
    days_late_total: int
    eta_changes: int
    eta_changes_in_advance: int

    @staticmethod
    def _rate(part, whole):
        return None if not whole else Decimal(part * 100) / Decimal(whole)

    @property
    def fill_rate(self) -> Decimal | None:
        return self._rate(self.shipped_pairs, self.ordered_pairs)

    @property
    def on_time_rate(self) -> Decimal | None:
        return self._rate(self.lines_on_time, self.lines_measured)

    @property
    def average_days_late(self) -> Decimal | None:
        return None if not self.lines_late else Decimal(self.days_late_total) / self.lines_late

    @property
    def in_advance_rate(self) -> Decimal | None:
        return self._rate(self.eta_changes_in_advance, self.eta_changes)


def delivery_scorecard(
    *, account: Account | None = None, days: int = 90, today: dt.date | None = None
) -> Scorecard:
    """Fill rate, on-time rate, days late and ETA changes told in advance, for one
    account or brand-wide (account=None), in a fixed number of aggregate queries.

    The lines measured are those whose promised date fell in the last `days` days (up to
    yesterday), so every one has had its chance to ship. Fill rate is shipped pairs over
    ordered pairs. A line is on time when everything it shipped left by its promised date
    and nothing is still waiting; late lines count the days from the promised date to
    their last shipment (or to today while still open). Wholly cancelled lines have
    nothing to measure and are left out of the on-time figures. An ETA change was told
    in advance when it was recorded before the old ETA."""

    today = today or timezone.localdate()
    start = today - dt.timedelta(days=days)
    lines = OrderLine.objects.filter(promised_date__gte=start, promised_date__lt=today)
    if account is not None:
        lines = lines.filter(order__account=account)
    tz = timezone.get_current_timezone()
    last_shipped = (
        ShipmentLine.objects.filter(order_line=OuterRef("pk"))
        .order_by()
        .values("order_line")
        .annotate(last=Max(TruncDate("shipment__shipped_at", tzinfo=tz)))
        .values("last")
    )
    measured = lines.filter(Q(shipped__gt=0) | Q(allocated__gt=0) | Q(backordered__gt=0))
    measured = measured.annotate(
        last_shipped=Subquery(last_shipped, output_field=DateField()),
        still_open=Case(
            When(Q(allocated__gt=0) | Q(backordered__gt=0), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    ).annotate(
        finished_on=Case(
            When(still_open=True, then=Value(today, output_field=DateField())),
            default=F("last_shipped"),
            output_field=DateField(),
        ),
    )
    on_time = Q(still_open=False, last_shipped__lte=F("promised_date"))
    late = Q(finished_on__gt=F("promised_date"))
    pairs = lines.aggregate(
        lines_due=Count("pk"),
        ordered=Coalesce(Sum("quantity"), 0),
        shipped=Coalesce(Sum("shipped"), 0),
    )
    timing = measured.aggregate(
        measured=Count("pk"),
        on_time=Count("pk", filter=on_time),
        late=Count("pk", filter=late),
        days_late=Sum(
            ExpressionWrapper(F("finished_on") - F("promised_date"), output_field=DurationField()),
            filter=late,
        ),
    )
    changes = EtaChange.objects.filter(changed_at__date__gte=start, changed_at__date__lte=today)
    if account is not None:
        changes = changes.filter(run__lines__pegs__line__order__account=account).distinct()
    told = changes.aggregate(
        total=Count("pk", distinct=True),
        in_advance=Count("pk", distinct=True, filter=Q(changed_at__date__lt=F("old_eta"))),
    )
    days_late = timing["days_late"]
    return Scorecard(
        lines_due=pairs["lines_due"],
        ordered_pairs=pairs["ordered"],
        shipped_pairs=pairs["shipped"],
        lines_measured=timing["measured"],
        lines_on_time=timing["on_time"],
        lines_late=timing["late"],
        days_late_total=days_late.days if days_late else 0,
        eta_changes=told["total"],
        eta_changes_in_advance=told["in_advance"],
    )


# --- Cart, review, order lists and details ---------------------------------------------


@dataclass(frozen=True)
class CartRow:
    line_id: int
    sku: SKU
    quantity: int
    ats: int
    next_eta: dt.date | None
    price: Decimal  # what the account pays: its price list's price
    picture: object = None  # inventory.selectors.Picture of the SKU's colour, if any
    promise: object = None  # inventory.selectors.Promise on the review page

    @property
    def pairs_had(self) -> int:
        """The pairs the order will have: on the review page, less those cancelled."""
        return self.quantity - (self.promise.unpromised if self.promise else 0)

    @property
    def line_total(self) -> Decimal:
        return self.price * self.pairs_had


def cart_rows(*, user, account: Account) -> list[CartRow]:
    """The cart's lines with ATS now and the next ETA, in a fixed number of queries."""
    from inventory.selectors import ats_by_sku, next_eta_by_sku

    lines = list(
        CartLine.objects.filter(cart__user=user, cart__account=account)
        .select_related("sku__style")
        .order_by("sku__style__number", "sku__color", "sku__width", "sku__size")
    )
    sku_ids = [line.sku_id for line in lines]
    ats = ats_by_sku(sku_ids=sku_ids)
    etas = next_eta_by_sku(sku_ids=sku_ids)
    prices = account_prices(account=account, skus=[line.sku for line in lines])
    pictures = pictures_by_style(style_ids={line.sku.style_id for line in lines})
    return [
        CartRow(
            line.pk,
            line.sku,
            line.quantity,
            ats[line.sku_id],
            etas[line.sku_id],
            prices[line.sku_id],
            next(iter(pictures_of(pictures.get(line.sku.style_id), line.sku.color)), None),
        )
        for line in lines
    ]


def cart_quantities(*, user, account: Account) -> dict[int, int]:
    return dict(
        CartLine.objects.filter(cart__user=user, cart__account=account).values_list(
            "sku_id", "quantity"
        )
    )


@dataclass(frozen=True)
class CartReview:
    rows: list[CartRow]
    pairs: int
    pairs_promised: int  # what the minimums count: pairs that cannot be had count for nothing
    subtotal: Decimal
    freight: object  # rules.FreightQuote
    total: Decimal
    opening: bool
    minimum_errors: list[str]
    opening_minimum: Decimal
    fill_in_minimum_pairs: int
    payment_terms: str
    window_end: dt.date
    backorders_allowed: bool
    credit_hold: bool  # the account is on (manual) credit hold: no new orders
    credit_warnings: list  # why this order would be accepted but held (rules.credit_hold_reasons)

    @property
    def can_submit(self) -> bool:
        return bool(self.rows) and not self.minimum_errors and not self.credit_hold

    @property
    def freight_meter_percent(self) -> int:
        threshold = self.freight.threshold
        if not threshold:
            return 100
        return min(int(self.subtotal * 100 / threshold), 100)


def cart_review(
    *,
    user,
    account: Account,
    backorder_policy: str = "allow",
    cancel_date: dt.date | None = None,
    today: dt.date | None = None,
) -> CartReview:
    """What the order would be if submitted now, line by line (ships now, backordered
    with its promise date and run, cannot be had and why), with the commercial terms
    that apply: the same rules order_place enforces. One set of queries for the cart."""
    from inventory.selectors import promises_for
    from orders import rules

    today = today or timezone.localdate()
    terms = rules.current_terms()
    rows = cart_rows(user=user, account=account)
    allow = backorder_policy == "allow" and account.accepts_backorders
    window_end = rules.backorder_window_end(
        account=account, terms=terms, cancel_date=cancel_date, today=today
    )
    promises = promises_for(
        skus=[row.sku for row in rows],
        quantities={row.sku.pk: row.quantity for row in rows},
        terms=terms,
        window_end=window_end,
        allow_backorder=allow,
        today=today,
    )
    rows = [replace(row, promise=promises[row.sku.pk]) for row in rows]
    pairs = sum(row.quantity for row in rows)
    pairs_promised = sum(row.pairs_had for row in rows)
    subtotal = rules.money(sum((row.line_total for row in rows), Decimal(0)))
    opening = rules.is_opening_order(account=account)
    freight = rules.freight_quote(account=account, terms=terms, subtotal=subtotal)
    account_held = account.credit_status == CreditStatus.HOLD
    credit_warnings = (
        credit_hold_reasons_for(
            account=account, terms=terms, order_value=subtotal + freight.freight, today=today
        )
        if rows and subtotal > 0 and not account_held
        else []
    )
    return CartReview(
        rows=rows,
        pairs=pairs,
        pairs_promised=pairs_promised,
        subtotal=subtotal,
        freight=freight,
        total=subtotal + freight.freight,
        opening=opening,
        minimum_errors=rules.minimum_errors(
            account=account,
            terms=terms,
            pairs=pairs_promised,
            subtotal=subtotal,
            opening=opening,
            pairs_cancelled=pairs - pairs_promised,
        )
        if rows
        else [],
        opening_minimum=terms.opening_order_minimum,
        fill_in_minimum_pairs=terms.fill_in_minimum_pairs,
        payment_terms=rules.payment_terms_label(account=account, terms=terms),
        window_end=window_end,
        backorders_allowed=account.accepts_backorders,
        credit_hold=account_held,
        credit_warnings=credit_warnings,
    )


class OrderFilterSet(django_filters.FilterSet):
    """Filters of the order list, for the portal page and the API alike."""

    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)
    po_number = django_filters.CharFilter(lookup_expr="icontains", label="PO number")
    placed_after = django_filters.DateFilter(field_name="placed_at", lookup_expr="date__gte")
    placed_before = django_filters.DateFilter(field_name="placed_at", lookup_expr="date__lte")

    class Meta:
        model = Order
        fields = ["status", "po_number", "placed_after", "placed_before"]


def orders_visible_to(*, user, account: Account | None = None) -> QuerySet[Order]:
    """Orders of the accounts the user may see (optionally one of them), newest first."""
    accounts = accounts_visible_to(user=user)
    queryset = Order.objects.filter(account__in=accounts)
    if account is not None:
        queryset = queryset.filter(account=account)
    return queryset.select_related("account", "placed_by").order_by("-placed_at", "-pk")


def order_for_user(*, user, number: str) -> Order | None:
    """The order with this number if it belongs to an account the user may see."""
    return (
        orders_visible_to(user=user)
        .select_related("ship_to", "terms")
        .filter(number=number)
        .first()
    )


@dataclass(frozen=True)
class LineDetail:
    line: OrderLine
    expected_date: dt.date | None
    runs: list[str]
    basis: str = ""  # what the expected date rests on


def order_line_details(*, order: Order) -> list[LineDetail]:
    """Every line's split, promised date, expected date (from its runs' ETAs, through
    line_promises) with what it rests on, and the runs it waits for."""
    lines = list(order.lines.select_related("sku__style").order_by("pk"))
    pegs = list(
        BackorderPeg.objects.filter(line__order=order)
        .order_by("inbound_line__run__reference")
        .values_list(
            "line_id", "inbound_line__run_id", "line__window_end", "inbound_line__run__reference"
        )
    )
    # The pegs and the order's terms read once, for the dates and the runs alike.
    promises = line_promises(
        lines=lines,
        pegs=[
            (line_id, run_id, order.terms_id, window_end) for line_id, run_id, window_end, _ in pegs
        ],
        known_terms=[order.terms],
    )
    runs = {}
    for line_id, *_, reference in pegs:
        runs.setdefault(line_id, []).append(reference)
    return [
        LineDetail(line, promise.date, runs.get(line.pk, []), promise.basis)
        if (promise := promises.get(line.pk))
        else LineDetail(line, None, runs.get(line.pk, []))
        for line in lines
    ]


@dataclass(frozen=True)
class ReorderRow:
    sku: SKU
    quantity: int
    ats: int
    next_eta: dt.date | None


def reorder_rows(*, order: Order) -> list[ReorderRow]:
    """The lines of a previous order with today's availability of each SKU."""
    from inventory.selectors import ats_by_sku, next_eta_by_sku

    lines = list(order.lines.select_related("sku__style").order_by("pk"))
    sku_ids = [line.sku_id for line in lines]
    ats = ats_by_sku(sku_ids=sku_ids)
    etas = next_eta_by_sku(sku_ids=sku_ids)
    return [
        ReorderRow(line.sku, line.quantity, ats[line.sku_id], etas[line.sku_id]) for line in lines
    ]


# --- The size grid and the quick lists -------------------------------------------------


@dataclass(frozen=True)
class GridCell:
    sku: SKU | None
    ats: int = 0
    next_eta: dt.date | None = None
    in_cart: int = 0


@dataclass(frozen=True)
class GridRow:
    width_label: str
    cells: list[GridCell]


@dataclass(frozen=True)
class SizeGrid:
    color: str
    sizes: list[str]
    rows: list[GridRow]
    price: PriceRange
    msrp: PriceRange
    pictures: list = field(default_factory=list)  # inventory.selectors.Picture, in order


def _availability(skus) -> tuple[dict, dict]:
    from inventory.selectors import ats_by_sku, next_eta_by_sku

    sku_ids = [sku.pk for sku in skus]
    return ats_by_sku(sku_ids=sku_ids), next_eta_by_sku(sku_ids=sku_ids)


def _grids(skus, *, in_cart, ats, etas, prices, pictures) -> list[SizeGrid]:
    by_color = {}
    for sku in skus:
        by_color.setdefault(sku.color, []).append(sku)
    grids = []
    for color, color_skus in by_color.items():
        sizes = sorted({sku.size for sku in color_skus})
        widths = sorted({sku.width for sku in color_skus})
        cell_of = {(sku.width, sku.size): sku for sku in color_skus}
        rows = []
        for width in widths:
            cells = []
            for size in sizes:
                sku = cell_of.get((width, size))
                cells.append(
                    GridCell(sku, ats[sku.pk], etas[sku.pk], in_cart.get(sku.pk, 0))
                    if sku
                    else GridCell(None)
                )
            rows.append(GridRow(Width(width).label, cells))
        grids.append(
            SizeGrid(
                color,
                [f"{size.normalize():f}" for size in sizes],
                rows,
                PriceRange.of(prices[sku.pk] for sku in color_skus),
                PriceRange.of(sku.msrp for sku in color_skus),
                pictures_of(pictures.get(color_skus[0].style_id), color),
            )
        )
    return grids


def style_size_grids(
    *, style: Style, account: Account | None, in_cart: dict[int, int] | None = None
) -> list[SizeGrid]:
    """One grid per colour of a style: sizes across, widths down, ATS and next ETA in each
    cell (and what the cart already holds), with the account's price and the MSRP."""
    skus = list(style.skus.filter(active=True).order_by("color", "width", "size"))
    ats, etas = _availability(skus)
    prices = account_prices(account=account, skus=skus)
    pictures = pictures_by_style(style_ids=[style.pk])
    return _grids(skus, in_cart=in_cart or {}, ats=ats, etas=etas, prices=prices, pictures=pictures)


@dataclass(frozen=True)
class ListGroup:
    style: Style
    color: str
    grid: SizeGrid


def quick_list(
    *, kind: str, account: Account | None, in_cart: dict[int, int] | None = None
) -> list[ListGroup]:
    """The core list or the quick-ship list, grouped by style and colour as size runs,
    at the account's prices."""
    flag = {"core": "core", "quick-ship": "quick_ship"}[kind]
    skus = list(
        SKU.objects.active()
        .filter(**{flag: True})
        .select_related("style")
        .order_by("style__number", "color", "width", "size")
    )
    ats, etas = _availability(skus)
    prices = account_prices(account=account, skus=skus)
    pictures = pictures_by_style(style_ids={sku.style_id for sku in skus})
    by_key = {}
    for sku in skus:
        by_key.setdefault((sku.style_id, sku.color), []).append(sku)
    return [
        ListGroup(
            group[0].style,
            group[0].color,
            _grids(
                group, in_cart=in_cart or {}, ats=ats, etas=etas, prices=prices, pictures=pictures
            )[0],
        )
        for group in by_key.values()
    ]

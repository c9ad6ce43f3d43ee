"""Placing and cancelling orders: the one path every door (portal, rep, API, upload,
customer service) goes through."""

import datetime as dt
import hashlib
import json
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.models import DecimalField, F, IntegerField, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from inventory import locks as inventory_locks
from inventory import selectors as inventory_selectors
from inventory.exceptions import InsufficientStock
from inventory.models import SKU, StockLevel
from inventory.parsing import natural_number, sku_code_normalize, whole_pairs
from inventory.pricing import prices_for_skus
from inventory.sql import values_table
from notifications.services import messages_written
from orders import ledger, locks, rules
from orders.credit_selectors import credit_hold_reasons_for
from orders.exceptions import (
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    OrderInputError,
    OrderNotAllowed,
)
from orders.models import (
    Account,
    BackorderPolicy,
    Order,
    OrderLine,
    OrderSource,
    OrderStatus,
    ShipTo,
)
from orders.notices import (
    account_recipients,
    backorders_filled_enqueue,
    order_confirmation_enqueue,
    order_confirmation_rows,
)
from orders.selectors import user_can_order
from orders.services.moves import moved_lines_tell
from orders.services.placement_reads import placement_reads
from orders.webhooks.events import WebhookEvent
from orders.webhooks.payloads import order_data
from orders.webhooks.services import webhook_event_enqueue

MAX_LINE_QUANTITY = 5000
MAX_LINES = 500
MAX_DAYS_AHEAD = 365
IDEMPOTENCY_KEY_MAX_LENGTH = Order._meta.get_field("idempotency_key").max_length
PO_NUMBER_MAX_LENGTH = Order._meta.get_field("po_number").max_length


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: object  # validated to a positive int


@dataclass(frozen=True)
class PlacementResult:
    order: Order
    created: bool
    lines: tuple = ()  # a new order's lines, in pk order; empty for a retry's earlier order


_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


def _has_control_characters(text: str) -> bool:
    return _CONTROL_CHARACTER.search(text) is not None


def sku_line_problem(*, code: str, sku) -> str | None:
    """Why a line's SKU cannot be ordered (missing, unknown, retired), or None."""
    if not code:
        return "Enter a SKU."
    if sku is None:
        return f"Unknown SKU {code!r}."
    if not sku.active:
        return f"SKU {code} is no longer sold."
    return None


def quantity_validate(raw, errors, field):
    quantity = whole_pairs(raw)
    if quantity is None:
        errors[field] = ["Enter a whole number of pairs."]
        return None
    if quantity <= 0:
        errors[field] = ["Quantity must be at least 1."]
        return None
    if quantity > MAX_LINE_QUANTITY:
        errors[field] = [f"Quantity must be at most {MAX_LINE_QUANTITY}."]
        return None
    return quantity


def _validate_date(value, field, errors, today):
    if value is None:
        return None
    if not isinstance(value, dt.date):
        errors[field] = ["Enter a date as YYYY-MM-DD."]
        return None
    if value < today:
        errors[field] = ["The date is in the past."]
    elif value > today + dt.timedelta(days=MAX_DAYS_AHEAD):
        errors[field] = [f"The date is more than {MAX_DAYS_AHEAD} days ahead."]
    return value


@dataclass(frozen=True)
class _ValidOrder:
    skus: list  # SKU per line, in request order
    quantities: list
    po_number: str
    ship_to_id: int | None
    requested_ship_date: dt.date | None
    cancel_date: dt.date | None
    backorder_policy: str


def _validate(
    *,
    account,
    lines,
    po_number,
    ship_to,
    requested_ship_date,
    cancel_date,
    backorder_policy,
    today,
    default_ship_to_id,
    skus_read,
) -> _ValidOrder:
    """Check everything before any write; every problem is reported, each by its field."""
    errors = {}
    po_number = (po_number or "").strip()
    if len(po_number) > PO_NUMBER_MAX_LENGTH:
        errors["po_number"] = [f"At most {PO_NUMBER_MAX_LENGTH} characters."]
    elif _has_control_characters(po_number):
        errors["po_number"] = ["Must not contain line breaks or control characters."]
    if backorder_policy not in BackorderPolicy.values:
        errors["backorders"] = [f"Choose one of: {', '.join(BackorderPolicy.values)}."]
    ship_to_id = default_ship_to_id
    if ship_to is not None:
        ship_to_pk = natural_number(ship_to.pk if isinstance(ship_to, ShipTo) else ship_to)
        ship_to_id = (
            ShipTo.objects.filter(account=account, pk=ship_to_pk)
            .values_list("pk", flat=True)
            .first()
            if ship_to_pk is not None
            else None
        )
        if ship_to_id is None:
            errors["ship_to"] = ["Not one of this account's ship-to addresses."]
    requested_ship_date = _validate_date(requested_ship_date, "requested_ship_date", errors, today)
    cancel_date = _validate_date(cancel_date, "cancel_date", errors, today)
    if requested_ship_date and cancel_date and cancel_date < requested_ship_date:
        errors["cancel_date"] = ["The cancel date is before the requested ship date."]

    if not lines:
        errors["lines"] = ["Add at least one line."]
    skus, quantities = lines_validate(lines=lines, errors=errors, skus_read=skus_read)
    if errors:
        raise OrderInputError(errors)
    return _ValidOrder(
        skus, quantities, po_number, ship_to_id, requested_ship_date, cancel_date, backorder_policy
    )


def line_codes(lines) -> list[str]:
    """The SKU codes of the lines looked up (the first MAX_LINES), normalised."""
    return [sku_code_normalize(line.sku) for line in (lines or [])[:MAX_LINES]]


def lines_validate(*, lines, errors, field="lines", skus_read=None) -> tuple[list, list]:
    """The SKU and pairs of each requested line, in order; each problem goes into
    ``errors`` under f"{field}[i].sku" or ".quantity" (placement and order edits).
    ``skus_read``: the SKUs of line_codes(lines), when the caller has read them."""
    if lines and len(lines) > MAX_LINES:
        errors[field] = [f"At most {MAX_LINES} lines per order."]
    codes = line_codes(lines)
    if skus_read is None:
        skus_read = SKU.objects.filter(code__in=codes).select_related("style")
    found = {sku.code.upper(): sku for sku in skus_read}
    skus, quantities, first_line_of = [], [], {}
    for index, (line, code) in enumerate(zip(lines or [], codes, strict=False)):
        sku = found.get(code)
        if problem := sku_line_problem(code=code, sku=sku):
            errors[f"{field}[{index}].sku"] = [problem]
        elif code in first_line_of:
            errors[f"{field}[{index}].sku"] = [
                f"SKU {code} is already on line {first_line_of[code]}; combine the quantities."
            ]
        else:
            first_line_of[code] = index
        quantity = quantity_validate(line.quantity, errors, f"{field}[{index}].quantity")
        skus.append(sku)
        quantities.append(quantity)
    return skus, quantities


def request_fingerprint(*, valid: _ValidOrder) -> str:
    """A digest of what was asked, to tell a retry from a different request on one key."""
    payload = {
        "po": valid.po_number,
        "ship_to": valid.ship_to_id,
        "requested": valid.requested_ship_date.isoformat() if valid.requested_ship_date else None,
        "cancel": valid.cancel_date.isoformat() if valid.cancel_date else None,
        "policy": valid.backorder_policy,
        "lines": sorted(
            [sku.pk, qty] for sku, qty in zip(valid.skus, valid.quantities, strict=True)
        ),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _existing_for_key(*, account, key, fingerprint):
    return _same_request(
        order=Order.objects.filter(account=account, idempotency_key=key).first(),
        fingerprint=fingerprint,
    )


def _same_request(*, order, fingerprint):
    """The order placed earlier with a key, if the request is a retry of it."""
    if order is not None and order.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(order)
    return order


@dataclass(frozen=True)
class _Placement:
    """A validated request, ready to be placed under locks."""

    account: Account
    user: object
    valid: _ValidOrder
    terms: object
    source: str
    idempotency_key: str | None
    fingerprint: str
    no_charge: bool
    today: dt.date
    opening: bool
    prices: dict[int, Decimal]  # what the account pays per SKU id today: its price list
    recipients: list  # who is sent the confirmation
    preferences: dict  # their confirmation preferences, as far as read (user id -> one or None)
    webhooks_heard: bool
    levels: list  # the SKUs' stock levels, read before the transaction (no lock)


def order_place(
    *,
    account: Account,
    user,
    lines: list[LineRequest],
    po_number: str = "",
    ship_to=None,
    requested_ship_date: dt.date | None = None,
    cancel_date: dt.date | None = None,
    backorder_policy: str = BackorderPolicy.ALLOW,
    source: str = OrderSource.PORTAL,
    idempotency_key: str | None = None,
    no_charge: bool = False,
) -> PlacementResult:
    """Place an order: what ATS covers is allocated, the rest is backordered against the
    earliest inbound runs that ship inside the window, or cancelled with the reason.
    The same idempotency key with the same request returns the first order."""
    prepared = _placement_prepare(
        account=account,
        user=user,
        lines=lines,
        po_number=po_number,
        ship_to=ship_to,
        requested_ship_date=requested_ship_date,
        cancel_date=cancel_date,
        backorder_policy=backorder_policy,
        source=source,
        idempotency_key=idempotency_key,
        no_charge=no_charge,
    )
    try:
        return _order_place_durable(placement=prepared)
    except IntegrityError:
        # A concurrent request with the same key committed first: answer with its order.
        if prepared.idempotency_key:
            existing = _existing_for_key(
                account=account, key=prepared.idempotency_key, fingerprint=prepared.fingerprint
            )
            if existing is not None:
                return PlacementResult(existing, created=False)
        raise


def _order_place_durable(*, placement: _Placement) -> PlacementResult:
    try:
        with transaction.atomic(durable=True):
            return _order_place_locked(placement=placement, lock_first=False)
    except InsufficientStock:
        # Stock read without a lock went to another order before this one locked it:
        # everything was rolled back; plan again with the stock locked first.
        with transaction.atomic(durable=True):
            return _order_place_locked(placement=placement, lock_first=True)


@transaction.atomic(savepoint=False)
def order_place_in_transaction(**arguments) -> PlacementResult:
    """order_place (same arguments) inside the caller's transaction, for a flow that
    records its own action with the order it places (customer service's replacement).
    Stock is locked before the plan: there is no rolling back to try again."""
    return _order_place_locked(placement=_placement_prepare(**arguments), lock_first=True)


def _placement_prepare(
    *,
    account,
    user,
    lines,
    po_number="",
    ship_to=None,
    requested_ship_date=None,
    cancel_date=None,
    backorder_policy=BackorderPolicy.ALLOW,
    source=OrderSource.PORTAL,
    idempotency_key=None,
    no_charge=False,
) -> _Placement:
    """Every check and read that needs no lock."""
    today = timezone.localdate()
    reads = placement_reads(account=account, today=today, codes=line_codes(lines))
    facts = reads.facts
    if not no_charge and not user_can_order(user=user, account=account, members=facts.members):
        raise OrderNotAllowed("You may not place orders for this account.")
    idempotency_key = idempotency_key_validate(idempotency_key)
    valid = _validate(
        account=account,
        lines=lines,
        po_number=po_number,
        ship_to=ship_to,
        requested_ship_date=requested_ship_date,
        cancel_date=cancel_date,
        backorder_policy=backorder_policy,
        today=today,
        default_ship_to_id=facts.default_ship_to_id,
        skus_read=reads.skus,
    )
    return _Placement(
        account=account,
        user=user,
        valid=valid,
        terms=facts.terms,
        source=source,
        idempotency_key=idempotency_key,
        fingerprint=request_fingerprint(valid=valid),
        no_charge=no_charge,
        today=today,
        opening=not no_charge and not facts.has_ordered,
        prices=prices_for_skus(price_list=facts.price_list, skus=valid.skus),
        recipients=account_recipients(
            account=account, extra=[user], members=[member.user for member in facts.members]
        ),
        preferences=facts.preferences,
        webhooks_heard=facts.webhooks_heard,
        levels=reads.levels,
    )


def idempotency_key_validate(key) -> str | None:
    if key is None:
        return None
    key = str(key).strip()
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH or _has_control_characters(key):
        raise OrderInputError(
            {"idempotency_key": [f"At most {IDEMPOTENCY_KEY_MAX_LENGTH} printable characters."]}
        )
    return key or None


def _check_account(*, account):
    if account.credit_status == "hold":
        raise OrderInputError(
            {"account": ["This account is on credit hold; please contact customer service."]}
        )


def _check_minimums(*, account, terms, valid, opening, prices, plans):
    """The minimums count the pairs the order will have: pairs that cannot be had are
    cancelled at placement and count for nothing (as the review page shows them)."""
    had = [
        (sku, quantity - plan.promise.unpromised)
        for sku, quantity, plan in zip(valid.skus, valid.quantities, plans, strict=True)
    ]
    minimum = rules.minimum_errors(
        account=account,
        terms=terms,
        pairs=sum(pairs for _, pairs in had),
        subtotal=sum((prices[sku.pk] * pairs for sku, pairs in had), Decimal(0)),
        opening=opening,
        pairs_cancelled=sum(plan.promise.unpromised for plan in plans),
    )
    if minimum:
        raise OrderInputError({"lines": minimum})


@transaction.atomic(savepoint=False)
def _order_place_locked(*, placement: _Placement, lock_first: bool) -> PlacementResult:
    """Write the order, its lines and its confirmation, then allocate: the stock levels
    are locked by that last step, so each is held only until the commit. When stock is
    short (or with lock_first) they are locked before the plan instead."""
    account, valid, terms, today = (
        placement.account,
        placement.valid,
        placement.terms,
        placement.today,
    )
    idempotency_key, no_charge = placement.idempotency_key, placement.no_charge
    # The account's credit lock comes with the key's (lock order: before the run-ETA
    # locks): one account's credit checks queue there.
    start = locks.placement_start(
        account_id=account.pk,
        key=idempotency_key,
        credit_lock=not no_charge,
        lines=len(valid.skus),
        messages=len({user.pk for user in placement.recipients}),
    )
    if idempotency_key:
        if not start.key_taken:
            raise IdempotencyKeyInFlight("A request with this idempotency key is in progress.")
        existing = start.existing_id and _same_request(
            order=Order.objects.get(pk=start.existing_id), fingerprint=placement.fingerprint
        )
        if existing:
            # A retry is answered before the account and minimum checks: the first request
            # may have made this account's next order a fill-in, or put it over its credit.
            return PlacementResult(existing, created=False)
    if not no_charge:
        _check_account(account=account)

    allow_backorder = valid.backorder_policy == BackorderPolicy.ALLOW and account.accepts_backorders
    window_end = rules.backorder_window_end(
        account=account, terms=terms, cancel_date=valid.cancel_date, today=today
    )
    plans = lines_plan(
        skus=valid.skus,
        quantities=valid.quantities,
        terms=terms,
        today=today,
        allow_backorder=allow_backorder,
        window_end=window_end,
        lock_first=lock_first,
        unlocked_levels=placement.levels,
    )
    if not no_charge:
        _check_minimums(
            account=account,
            terms=terms,
            valid=valid,
            opening=placement.opening,
            prices=placement.prices,
            plans=plans,
        )
    order = Order(
        pk=start.order_id,
        number=order_number(start.order_id) if start.order_id else "",
        account=account,
        placed_by=placement.user,
        source=placement.source,
        po_number=valid.po_number,
        ship_to_id=valid.ship_to_id,
        requested_ship_date=valid.requested_ship_date,
        cancel_date=valid.cancel_date,
        backorder_policy=valid.backorder_policy,
        is_opening_order=placement.opening,
        no_charge=no_charge,
        terms=terms,
        idempotency_key=idempotency_key or None,
        request_fingerprint=placement.fingerprint,
    )
    lines = [
        planned_line(
            order=order,
            sku=sku,
            quantity=quantity,
            plan=plan,
            unit_price=Decimal("0.00") if no_charge else placement.prices[sku.pk],
            window_end=window_end,
            pk=line_id,
        )
        for sku, quantity, plan, line_id in zip(
            valid.skus, valid.quantities, plans, start.line_ids or [None] * len(plans), strict=True
        )
    ]
    order_totals_apply(order=order, lines=lines, quote=True)
    if not no_charge:
        credit_hold_apply(order=order, value=order.total, today=today)
    if not order.pk:  # SQLite: no sequence drawn from; the order is inserted for its pk
        order.save(force_insert=True)
        order.number = order_number(order.pk)
        Order.objects.filter(pk=order.pk).update(number=order.number)
    # Before the stock levels are locked: the webhook, when an endpoint listens; the
    # confirmation's rows are written with the order's.
    _placement_webhook(order=order, lines=lines, placement=placement)
    new_order = order if order._state.adding else None
    if start.line_ids:
        confirmation = order_confirmation_rows(
            order=order,
            lines=lines,
            recipients=placement.recipients,
            preferences=placement.preferences,
            pks=start.message_ids,
        )
        planned_lines_place(lines=lines, plans=plans, order=new_order, rows=confirmation)
        messages_written(confirmation)
    else:  # SQLite: the lines get their pks as they are inserted; the confirmation names them
        planned_lines_place(lines=lines, plans=plans, order=new_order)
        order_confirmation_enqueue(
            order=order,
            lines=lines,
            recipients=placement.recipients,
            preferences=placement.preferences,
        )
    return PlacementResult(order, created=True, lines=tuple(lines))


def planned_line(*, order, sku, quantity, plan, unit_price, window_end, **fields) -> OrderLine:
    """A new line as its plan splits it: from stock, backordered inside the window, or
    cancelled with the reason; its promised date is never before the requested one."""
    promise = plan.promise
    ships_by = promise.ships_by
    if order.requested_ship_date and ships_by:
        ships_by = max(ships_by, order.requested_ship_date)
    return OrderLine(
        order=order,
        sku=sku,
        unit_price=unit_price,
        quantity=quantity,
        allocated=promise.from_stock,
        backordered=promise.backordered,
        cancelled=promise.unpromised,
        cancelled_at_placement=promise.unpromised,
        cancel_reason=promise.reason if promise.unpromised else "",
        promised_date=ships_by,
        communicated_date=ships_by,
        window_end=window_end if promise.backordered else None,
        **fields,
    )


def planned_lines_place(*, lines, plans, order=None, rows=()) -> None:
    """Write new lines through the ledger with the stock and runs their plans take (and
    their new ``order``'s row with them, when it is not written yet, and ``rows``: its
    confirmation's)."""
    ledger.lines_place(
        order=order,
        lines=lines,
        takes=[
            (line, level, quantity)
            for line, plan in zip(lines, plans, strict=True)
            for level, quantity in plan.takes
        ],
        parts=[
            (line, part.inbound_line_id, part.quantity)
            for line, plan in zip(lines, plans, strict=True)
            for part in plan.promise.inbound_parts
        ],
        rows=rows,
    )


def credit_hold_apply(*, order, value, today) -> None:
    """Put the order on credit hold (the caller saves) when ``value`` more on order takes
    the account over its credit limit, or an invoice is too far past due. It is still
    accepted and allocated; only shipping waits. An order already held keeps its hold."""
    if order.on_credit_hold or value <= 0:
        return
    reasons = credit_hold_reasons_for(
        account=order.account, terms=order.terms, order_value=value, today=today
    )
    if reasons:
        order.credit_hold_reasons = reasons
        order.credit_held_at = timezone.now()
        order.credit_released_at, order.credit_released_by = None, None


def _placement_webhook(*, order, lines, placement: _Placement):
    """The order.placed webhook, when an endpoint listens, in the placement's
    transaction."""
    if not placement.webhooks_heard:
        return
    webhook_event_enqueue(
        event=WebhookEvent.ORDER_PLACED,
        key=f"order.placed:{order.pk}",
        account=order.account,
        data=order_data(order=order, lines=lines),
    )


def order_number(pk: int) -> str:
    return f"SO-{100000 + pk}"


@dataclass(frozen=True)
class LinePlan:
    promise: inventory_selectors.Promise
    takes: list  # (stock level, pairs) the line is allocated from


def lines_plan(
    *,
    skus,
    quantities,
    terms,
    today,
    allow_backorder,
    window_end,
    lock_first,
    unlocked_levels=None,
) -> list[LinePlan]:
    """Each line's promise and the stock levels it takes from. Stock read without a lock
    plans an order it covers in full (the allocation locks the levels and checks each
    still has its pairs); a shortage is planned under the lock, with the inbound lines
    the rest may be pegged to. With lock_first this takes the run-ETA locks and then
    the stock levels; a caller already holding row locks (an order edit) took the run-ETA
    locks before them itself (they are re-entrant), keeping the lock order. Without
    lock_first, ``unlocked_levels``: the SKUs' levels as the caller read them, if it did."""
    sku_ids = [sku.pk for sku in skus]
    held_runs = set()
    if lock_first:
        if allow_backorder:
            held_runs = inventory_locks.run_etas_share_lock(sku_ids=sku_ids)
        levels = inventory_locks.stock_levels_lock(sku_ids=sku_ids)
    elif unlocked_levels is not None:
        levels = unlocked_levels
    else:
        levels = list(StockLevel.objects.filter(sku_id__in=sku_ids).select_related("warehouse"))
    ats = defaultdict(int)
    for level in levels:
        ats[level.sku_id] += level.ats
    short = [
        sku.pk for sku, quantity in zip(skus, quantities, strict=True) if quantity > ats[sku.pk]
    ]
    if short and not lock_first:
        return lines_plan(
            skus=skus,
            quantities=quantities,
            terms=terms,
            today=today,
            allow_backorder=allow_backorder,
            window_end=window_end,
            lock_first=True,
        )
    slots = {}
    if allow_backorder and short:
        # Only runs whose ETA is held: one opened since is not promised from.
        slots = inventory_selectors.slots_from_lines(
            line
            for line in inventory_locks.open_inbound_lines_lock(sku_ids=short)
            if line.run_id in held_runs
        )
    plans = []
    for sku, quantity in zip(skus, quantities, strict=True):
        promise = inventory_selectors.promise_plan(
            sku=sku,
            quantity=quantity,
            ats=ats[sku.pk],
            slots=slots.get(sku.pk, []),
            terms=terms,
            window_end=window_end,
            allow_backorder=allow_backorder,
            today=today,
        )
        takes = inventory_selectors.stock_takes(
            levels=levels, sku_id=sku.pk, quantity=promise.from_stock
        )
        plans.append(LinePlan(promise, takes))
    return plans


class LineSums(NamedTuple):
    """What an order's totals and status follow from: sums over its lines."""

    charged: Decimal  # unit price times the pairs not cancelled
    kept: int  # pairs not cancelled
    shipped: int
    still_open: int  # allocated and backordered pairs


def line_sums(lines) -> LineSums:
    return LineSums(
        charged=sum(
            (line.unit_price * (line.quantity - line.cancelled) for line in lines), Decimal(0)
        ),
        kept=sum(line.quantity - line.cancelled for line in lines),
        shipped=sum(line.shipped for line in lines),
        still_open=sum(line.allocated + line.backordered for line in lines),
    )


def order_totals_apply(*, order, lines, quote: bool = False) -> None:
    """Set subtotal (cancelled pairs are not charged), freight, total and status on an
    order from its lines; the caller saves. Freight is quoted once, at placement
    (quote=True), from the terms, and kept: a cancellation never re-quotes it (a brand
    cancelling part of an order never adds a charge), and an order of which nothing
    ships owes none. So the total is always what was invoiced plus what is still open."""
    _order_figures_apply(order=order, sums=line_sums(lines), quote=quote)


def _order_figures_apply(*, order, sums: LineSums, quote: bool = False) -> None:
    subtotal = rules.money(sums.charged)
    if order.no_charge:
        freight = Decimal("0.00")
    elif quote:
        freight = rules.freight_quote(
            account=order.account, terms=order.terms, subtotal=subtotal
        ).freight
    elif not sums.kept:
        freight = Decimal("0.00")
    else:
        freight = order.freight
    order.subtotal, order.freight, order.total = subtotal, freight, subtotal + freight
    order.status = _status_of(sums)


TOTAL_FIELDS = ["subtotal", "freight", "total", "status"]


def _order_totals_set(*, order, lines):
    order_totals_apply(order=order, lines=lines)
    order.save(update_fields=TOTAL_FIELDS)


@dataclass(slots=True)
class _OrderTotals:
    """What the totals rule reads and sets of an order without a quote (no account, no
    terms), read as a row: a sweep batch refreshes a thousand orders."""

    pk: int
    no_charge: bool
    subtotal: Decimal
    freight: Decimal
    total: Decimal
    status: str


def _summed(expression, output_field):
    return Coalesce(Sum(expression, output_field=output_field), Value(0), output_field=output_field)


def orders_totals_refresh(*, order_ids) -> None:
    """Recompute the totals and status of many orders from their lines, in two queries
    whatever their number (engine jobs that touch lines across many orders): each order
    read as a row with its lines' sums, and only the orders whose figures moved written,
    in one UPDATE."""
    order_ids = set(order_ids)
    if not order_ids:
        return
    money, pairs = DecimalField(max_digits=14, decimal_places=2), IntegerField()
    rows = (
        Order.objects.filter(pk__in=order_ids)
        .order_by()
        .values_list("pk", "no_charge", *TOTAL_FIELDS)
        .annotate(
            charged=_summed(
                F("lines__unit_price") * (F("lines__quantity") - F("lines__cancelled")), money
            ),
            kept=_summed(F("lines__quantity") - F("lines__cancelled"), pairs),
            shipped=_summed("lines__shipped", pairs),
            still_open=_summed(F("lines__allocated") + F("lines__backordered"), pairs),
        )
    )
    moved = []
    for *row, charged, kept, shipped, still_open in rows:
        order = _OrderTotals(*row)
        before = [getattr(order, field) for field in TOTAL_FIELDS]
        _order_figures_apply(order=order, sums=LineSums(charged, kept, shipped, still_open))
        if [getattr(order, field) for field in TOTAL_FIELDS] != before:
            moved.append(order)
    if not moved:
        return
    table, params = values_table(
        "moved",
        ["order_id", *TOTAL_FIELDS],
        [
            (order.pk, order.subtotal, order.freight, order.total, str(order.status))
            for order in moved
        ],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"{table}UPDATE {Order._meta.db_table} AS target SET subtotal = moved.subtotal, "
            "freight = moved.freight, total = moved.total, status = moved.status "
            "FROM moved WHERE target.id = moved.order_id",
            params,
        )


def order_status_for(lines) -> str:
    return _status_of(line_sums(lines))


def _status_of(sums: LineSums) -> str:
    if sums.still_open == 0:
        return OrderStatus.SHIPPED if sums.shipped else OrderStatus.CANCELLED
    return OrderStatus.PARTIALLY_SHIPPED if sums.shipped else OrderStatus.OPEN


# --- Cancelling ------------------------------------------------------------------


@dataclass(frozen=True)
class CancelRequest:
    line_id: object
    quantity: object = None  # None: all of the line's open pairs


@transaction.atomic(durable=True)
def order_cancel(
    *,
    order: Order,
    user,
    lines: list[CancelRequest] | None = None,
    reason: str = "Cancelled by the retailer.",
    staff: bool = False,
) -> Order:
    """Cancel open (unshipped) quantities of an order, all of them when no lines are given.
    Stock and inbound promises are released at once."""
    return order_cancel_in_transaction(
        order=order, user=user, lines=lines, reason=reason, staff=staff
    )


@transaction.atomic(savepoint=False)
def order_cancel_in_transaction(
    *,
    order: Order,
    user,
    lines: list[CancelRequest] | None = None,
    reason: str = "Cancelled by the retailer.",
    staff: bool = False,
) -> Order:
    """order_cancel inside the caller's transaction (customer service records its action
    in the same one)."""
    if not staff and not user_can_order(user=user, account=order.account):
        raise OrderNotAllowed("You may not change orders for this account.")
    order = locks.order_lock(order_id=order.pk)
    sku_ids = set(OrderLine.objects.filter(order_id=order.pk).values_list("sku_id", flat=True))
    # The order's lines and every line waiting for their SKUs, in one lock: the pairs
    # this frees go to those first.
    held = ledger.lines_lock(order_id=order.pk, waiting_sku_ids=sku_ids)
    locked = {line.pk: line for line in held if line.order_id == order.pk}
    wanted = cancel_requests_validate(lines=lines, locked=locked)
    lines_cancel(order=order, held=held, wanted=wanted, reason=reason)
    _order_totals_set(order=order, lines=list(locked.values()))
    _cancellation_tell(order=order, lines=list(locked.values()))
    return order


def lines_cancel(*, order, held, wanted, reason) -> None:
    """Cancel (line, pairs) of the order through the ledger, ``held`` being its locked
    lines with every line waiting for their SKUs; whoever the freed pairs fill is told."""
    today = timezone.localdate()
    freed = ledger.cancel(lines=held, wanted=wanted, reason=reason, today=today)
    moved_lines_tell(
        lines=freed.lines.values(),
        moved=freed.moved,
        key=f"moved:{uuid.uuid4().hex}",
        reason="Freed pairs went to older orders first",
    )
    backorders_filled_enqueue(
        lines=freed.lines.values(),
        filled=freed.filled,
        key=f"filled:{uuid.uuid4().hex}",
        ship_date=inventory_selectors.ship_date_from_stock(terms=order.terms, today=today),
    )


def _cancellation_tell(*, order, lines):
    """order.cancelled when nothing is left open, else order.changed. Keyed by the pairs
    cancelled so far: a repeated request that cancels nothing more tells nothing twice."""
    event = (
        WebhookEvent.ORDER_CANCELLED
        if order.status == OrderStatus.CANCELLED
        else WebhookEvent.ORDER_CHANGED
    )
    cancelled = sum(line.cancelled for line in lines)
    webhook_event_enqueue(
        event=event,
        key=f"{event}:{order.pk}:{cancelled}",
        account=order.account,
        data=order_data(order=order, lines=lines),
    )


def cancel_requests_validate(*, lines, locked):
    if lines is None:
        return [(line, line.open_quantity) for line in locked.values() if line.open_quantity]
    errors, wanted, seen = {}, [], set()
    for index, request in enumerate(lines):
        line = locked.get(natural_number(request.line_id))
        if line is None:
            errors[f"lines[{index}].id"] = ["Not a line of this order."]
            continue
        if line.pk in seen:
            errors[f"lines[{index}].id"] = ["This line is listed twice."]
            continue
        seen.add(line.pk)
        if request.quantity is None:
            quantity = line.open_quantity
        else:
            quantity = quantity_validate(request.quantity, errors, f"lines[{index}].quantity")
            if quantity is not None and quantity > line.open_quantity:
                errors[f"lines[{index}].quantity"] = [
                    f"Only {line.open_quantity} pairs of this line are still open."
                ]
        if f"lines[{index}].quantity" not in errors and not line.open_quantity:
            errors[f"lines[{index}].id"] = ["Nothing on this line is open to cancel."]
        wanted.append((line, quantity))
    if errors:
        raise OrderInputError(errors)
    return wanted

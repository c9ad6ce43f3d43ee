"""Editing an open order before it ships: lines added and lines reduced, through the same
rules as a placement (the backorder policy and window, the minimums, the credit limit)
and the ledger's verbs (lines_place for the new lines, cancel for the reductions). The
order keeps its number and PO; the change is recorded (OrderEdit) and confirmed like a
new order, through the outbox (and the order.changed webhook). Pairs added join the
backorder queue when they are added (OrderLine.queued_at), behind everyone waiting."""

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory import locks as inventory_locks
from inventory.parsing import natural_number
from orders import ledger, locks, rules
from orders.exceptions import (
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    OrderInputError,
    OrderNotAllowed,
)
from orders.models import (
    BackorderPolicy,
    CreditStatus,
    Order,
    OrderEdit,
    OrderSource,
    OrderStatus,
)
from orders.notices import order_confirmation_enqueue
from orders.pricing import account_prices
from orders.selectors import user_can_order
from orders.services.ordering import (
    TOTAL_FIELDS,
    CancelRequest,
    LineRequest,
    cancel_requests_validate,
    credit_hold_apply,
    idempotency_key_validate,
    lines_cancel,
    lines_plan,
    lines_validate,
    order_totals_apply,
    planned_line,
    planned_lines_place,
    quantity_validate,
)
from orders.webhooks.events import WebhookEvent
from orders.webhooks.payloads import order_data
from orders.webhooks.services import webhook_event_enqueue

REDUCED_REASON = "Reduced by the retailer."
CREDIT_FIELDS = [
    "credit_hold_reasons",
    "credit_held_at",
    "credit_released_at",
    "credit_released_by",
]


@dataclass(frozen=True)
class ReduceRequest:
    line_id: object
    by: object  # pairs to take off the line's open quantity


@dataclass(frozen=True)
class EditResult:
    order: Order
    edit: OrderEdit
    created: bool  # False: a retry with the same idempotency key, nothing changed again


@dataclass(frozen=True)
class _ValidEdit:
    skus: list
    quantities: list
    reductions: list  # (line id, pairs)
    fingerprint: str


def order_edit(
    *,
    order: Order,
    user,
    add: list[LineRequest] = (),
    reduce: list[ReduceRequest] = (),
    source: str = OrderSource.PORTAL,
    idempotency_key: str | None = None,
) -> EditResult:
    """Add lines to and reduce lines of an open order. Each problem is named by its field
    (add[i].sku, reduce[i].by, ...) and nothing changes; the same idempotency key with
    the same request returns the first change."""
    if not user_can_order(user=user, account=order.account):
        raise OrderNotAllowed("You may not change orders for this account.")
    key = idempotency_key_validate(idempotency_key)
    valid = _edit_validate(add=list(add or []), reduce=list(reduce or []))
    try:
        with transaction.atomic(durable=True):
            return _order_edit_locked(order=order, user=user, valid=valid, source=source, key=key)
    except IntegrityError:
        # A concurrent request with the same key committed first: answer with its change.
        existing = (
            OrderEdit.objects.filter(order=order, idempotency_key=key).first() if key else None
        )
        if existing is None:
            raise
        return _retry_result(existing=existing, valid=valid)


def _edit_validate(*, add, reduce) -> _ValidEdit:
    errors = {}
    if not add and not reduce:
        errors["lines"] = ["Add a line or reduce one."]
    skus, quantities = lines_validate(lines=add, errors=errors, field="add")
    reductions = []
    for index, request in enumerate(reduce):
        line_id = natural_number(request.line_id)
        if line_id is None:
            errors[f"reduce[{index}].id"] = ["Not a line of this order."]
        by = quantity_validate(request.by, errors, f"reduce[{index}].by")
        reductions.append((line_id, by))
    if errors:
        raise OrderInputError(errors)
    payload = {
        "add": sorted([sku.pk, quantity] for sku, quantity in zip(skus, quantities, strict=True)),
        "reduce": sorted([line_id, by] for line_id, by in reductions),
    }
    fingerprint = hashlib.sha256(json.dumps(payload).encode()).hexdigest()
    return _ValidEdit(skus, quantities, reductions, fingerprint)


def _retry_result(*, existing: OrderEdit, valid: _ValidEdit) -> EditResult:
    if existing.request_fingerprint != valid.fingerprint:
        raise IdempotencyKeyReused(existing.order)
    return EditResult(Order.objects.get(pk=existing.order_id), existing, created=False)


@transaction.atomic(savepoint=False)
def _order_edit_locked(*, order, user, valid: _ValidEdit, source, key) -> EditResult:
    """Locks in the project's order: the account's credit check and the added SKUs'
    run ETAs (advisory), the order, its lines with every line waiting for the reduced
    SKUs, then the stock levels and inbound lines of every SKU involved, in one pass
    each, before either verb runs."""
    account = order.account
    if key:
        if not locks.idempotency_key_try_lock(account_id=account.pk, key=f"edit:{order.pk}:{key}"):
            raise IdempotencyKeyInFlight("A request with this idempotency key is in progress.")
        existing = OrderEdit.objects.filter(order=order, idempotency_key=key).first()
        if existing is not None:
            return _retry_result(existing=existing, valid=valid)
    adding = bool(valid.skus)
    allow_backorder = order.backorder_policy == BackorderPolicy.ALLOW and account.accepts_backorders
    add_sku_ids = {sku.pk for sku in valid.skus}
    if adding:
        locks.account_credit_lock(account_id=account.pk)
        if allow_backorder:
            inventory_locks.run_etas_share_lock(sku_ids=add_sku_ids)
    order = locks.order_lock(order_id=order.pk)
    _order_editable_check(order=order, adding=adding)
    reduce_ids = {line_id for line_id, _ in valid.reductions}
    reduce_sku_ids = set(order.lines.filter(pk__in=reduce_ids).values_list("sku_id", flat=True))
    held = ledger.lines_lock(order_id=order.pk, waiting_sku_ids=reduce_sku_ids)
    own = {line.pk: line for line in held if line.order_id == order.pk}
    wanted = _reductions_check(valid=valid, own=own)
    _minimum_check(order=order, own=own, wanted=wanted, valid=valid)
    every_sku = add_sku_ids | reduce_sku_ids
    inventory_locks.stock_levels_lock(sku_ids=every_sku)
    inventory_locks.open_inbound_lines_lock(sku_ids=every_sku)

    today = timezone.localdate()
    total_before = order.total
    if wanted:
        lines_cancel(order=order, held=held, wanted=wanted, reason=REDUCED_REASON)
    new_lines = _lines_add(order=order, valid=valid, allow_backorder=allow_backorder, today=today)
    order_totals_apply(order=order, lines=[*own.values(), *new_lines])
    if adding:
        # Freight is re-quoted for what was added, and only ever goes down.
        quote = rules.freight_quote(account=account, terms=order.terms, subtotal=order.subtotal)
        order.freight = min(order.freight, quote.freight)
        order.total = order.subtotal + order.freight
        credit_hold_apply(
            order=order, value=max(order.total - total_before, Decimal(0)), today=today
        )
    order.save(update_fields=[*TOTAL_FIELDS, *CREDIT_FIELDS])
    edit = OrderEdit.objects.create(
        order=order,
        user=user,
        source=source,
        idempotency_key=key,
        request_fingerprint=valid.fingerprint,
        added=[
            {"line": line.pk, "sku": line.sku.code, "quantity": line.quantity} for line in new_lines
        ],
        reduced=[
            {"line": line.pk, "sku": line.sku.code, "quantity": pairs} for line, pairs in wanted
        ],
        total_before=total_before,
        total_after=order.total,
    )
    lines = sorted([*own.values(), *new_lines], key=lambda line: line.pk)
    order_confirmation_enqueue(order=order, lines=lines, change=edit)
    webhook_event_enqueue(
        event=WebhookEvent.ORDER_CHANGED,
        key=f"{WebhookEvent.ORDER_CHANGED}:edit:{edit.pk}",
        account=order.account,
        data=order_data(order=order, lines=lines),
    )
    return EditResult(order, edit, created=True)


def _order_editable_check(*, order, adding) -> None:
    if order.no_charge:
        raise OrderInputError(
            {"order": [f"Order {order.number} is a replacement; it cannot change."]}
        )
    if order.status != OrderStatus.OPEN:
        raise OrderInputError(
            {
                "order": [
                    f"Order {order.number} is {order.get_status_display().lower()}: only an "
                    "order that has not begun shipping can change. Place a new order for more "
                    "pairs, or cancel what is still open."
                ]
            }
        )
    if adding and order.account.credit_status == CreditStatus.HOLD:
        raise OrderInputError(
            {"account": ["This account is on credit hold; please contact customer service."]}
        )


def _reductions_check(*, valid: _ValidEdit, own) -> list:
    """The (line, pairs) to reduce, checked against the locked lines: named reduce[i]."""
    try:
        return cancel_requests_validate(
            lines=[CancelRequest(line_id, by) for line_id, by in valid.reductions]
            if valid.reductions
            else [],
            locked=own,
        )
    except OrderInputError as error:
        raise OrderInputError(
            {
                key.replace("lines[", "reduce[").replace(".quantity", ".by"): problems
                for key, problems in error.message_dict.items()
            }
        ) from error


def _minimum_check(*, order, own, wanted, valid: _ValidEdit) -> None:
    """A SKU already on the order is changed on its line, not added twice; and a
    reduction may not take the order below its minimum (cancelling it is another
    matter). Pairs and value exclude what is cancelled."""
    errors = {}
    on_order = {line.sku_id: line for line in own.values()}
    for index, sku in enumerate(valid.skus):
        if sku.pk in on_order:
            errors[f"add[{index}].sku"] = [
                f"SKU {sku.code} is already on this order (line {on_order[sku.pk].pk}); "
                "order more of it on a new order."
            ]
    if errors:
        raise OrderInputError(errors)
    if not wanted:
        return
    prices = account_prices(account=order.account, skus=valid.skus) if valid.skus else {}
    reduced = {line.pk: pairs for line, pairs in wanted}
    pairs = sum(line.quantity - line.cancelled - reduced.get(line.pk, 0) for line in own.values())
    value = sum(
        (
            line.unit_price * (line.quantity - line.cancelled - reduced.get(line.pk, 0))
            for line in own.values()
        ),
        Decimal(0),
    )
    pairs += sum(valid.quantities)
    value += sum(
        (prices[sku.pk] * qty for sku, qty in zip(valid.skus, valid.quantities, strict=True)),
        Decimal(0),
    )
    minimum = rules.minimum_errors(
        account=order.account,
        terms=order.terms,
        pairs=pairs,
        subtotal=value,
        opening=order.is_opening_order,
    )
    if minimum:
        raise OrderInputError({"reduce": minimum})


def _lines_add(*, order, valid: _ValidEdit, allow_backorder, today) -> list:
    """The new lines, planned under the locks taken and written through the ledger."""
    if not valid.skus:
        return []
    window_end = rules.backorder_window_end(
        account=order.account, terms=order.terms, cancel_date=order.cancel_date, today=today
    )
    plans = lines_plan(
        skus=valid.skus,
        quantities=valid.quantities,
        terms=order.terms,
        today=today,
        allow_backorder=allow_backorder,
        window_end=window_end,
        lock_first=True,
    )
    prices = account_prices(account=order.account, skus=valid.skus)
    queued_at = timezone.now()
    lines = [
        planned_line(
            order=order,
            sku=sku,
            quantity=quantity,
            plan=plan,
            unit_price=prices[sku.pk],
            window_end=window_end,
            queued_at=queued_at,
        )
        for sku, quantity, plan in zip(valid.skus, valid.quantities, plans, strict=True)
    ]
    planned_lines_place(lines=lines, plans=plans)
    return lines

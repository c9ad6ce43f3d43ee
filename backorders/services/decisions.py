"""The retailer's answer to a late backorder: keep, switch or cancel."""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from backorders import locks
from backorders.exceptions import (
    AlreadyDecided,
    AlternativeUnavailable,
    BackorderInputError,
    DecisionNotAllowed,
    NothingBackordered,
)
from backorders.models import CancelSource, DecisionAction, DecisionRequest, DecisionStatus
from backorders.services.common import (
    alternative_skus,
    backorders_cancel,
)
from inventory import locks as inventory_locks
from inventory.models import SKU
from inventory.parsing import sku_code_normalize
from inventory.selectors import ship_date_from_stock, stock_takes
from orders import ledger
from orders import locks as orders_locks
from orders.models import OrderLine
from orders.pricing import account_prices
from orders.selectors import line_expected_dates, user_can_order
from orders.services.ordering import orders_totals_refresh
from orders.webhooks.services import orders_changed_enqueue


@dataclass(frozen=True)
class DecisionResult:
    line: OrderLine
    action: str
    request: DecisionRequest | None = None
    new_line: OrderLine | None = None


def _validate(*, action, sku):
    errors = {}
    if action not in DecisionAction.values:
        errors["action"] = [f"Choose one of: {', '.join(DecisionAction.values)}."]
    if action == DecisionAction.SWITCH and not (sku and str(sku).strip()):
        errors["sku"] = ["Choose the alternative to switch to."]
    if errors:
        raise BackorderInputError(errors)


@transaction.atomic(durable=True)
def backorder_decide(
    *,
    line: OrderLine,
    action: str,
    user,
    sku: str | None = None,
    decision_request: DecisionRequest | None = None,
    today: dt.date | None = None,
) -> DecisionResult:
    """Keep (the line's window extends to its new date), switch (cancel the backordered
    pairs and add a line on the alternative, allocated now: all or nothing) or cancel the
    backordered pairs. Answers the line's pending decision request, if any. Raises
    AlreadyDecided when `decision_request` was already answered (nothing changes)."""
    _validate(action=action, sku=sku)
    if not user_can_order(user=user, account=line.order.account):
        raise DecisionNotAllowed("You may not change orders for this account.")
    orders_locks.order_lock(order_id=line.order_id)
    return _decide(
        line=line,
        action=action,
        user=user,
        sku=sku,
        decision_request=decision_request,
        today=today or timezone.localdate(),
    )


@dataclass(frozen=True)
class DecisionAnswer:
    """One line's answer on the page that answers many: the request and the choice."""

    request: DecisionRequest
    action: str
    sku: str | None = None


@transaction.atomic(durable=True)
def backorder_decisions_answer(
    *, answers: list[DecisionAnswer], user, today: dt.date | None = None
) -> list[DecisionResult]:
    """Answer many decision requests at once, all or nothing: if one answer cannot be
    applied (bad choice, already answered, alternative sold out), nothing changes and
    BackorderInputError names every request at fault ("<request id>": [why])."""
    today = today or timezone.localdate()
    if not answers:
        raise BackorderInputError({"non_field_errors": ["Choose an answer for at least one line."]})
    errors = {}
    for answer in answers:
        try:
            _validate(action=answer.action, sku=answer.sku)
        except BackorderInputError as error:
            errors[str(answer.request.pk)] = [m for ms in error.message_dict.values() for m in ms]
    if errors:
        raise BackorderInputError(errors)
    accounts = {answer.request.line.order.account for answer in answers}
    if not all(user_can_order(user=user, account=account) for account in accounts):
        raise DecisionNotAllowed("You may not change orders for this account.")
    # Lock order: every Order, then the lines one by one, each by pk.
    for order_id in sorted({answer.request.line.order_id for answer in answers}):
        orders_locks.order_lock(order_id=order_id)
    results = []
    for answer in sorted(answers, key=lambda answer: answer.request.line_id):
        try:
            # A savepoint per line: a refused line leaves the transaction usable, so every
            # line at fault is named before all of them are rolled back.
            with transaction.atomic():
                results.append(
                    _decide(
                        line=answer.request.line,
                        action=answer.action,
                        user=user,
                        sku=answer.sku,
                        decision_request=answer.request,
                        today=today,
                    )
                )
        except BackorderInputError as error:
            errors[str(answer.request.pk)] = [m for ms in error.message_dict.values() for m in ms]
        except (AlreadyDecided, AlternativeUnavailable, NothingBackordered) as error:
            errors[str(answer.request.pk)] = [str(error)]
    if errors:
        # Raising rolls back every answer already applied in this transaction.
        raise BackorderInputError(errors)
    return results


@transaction.atomic(savepoint=False)
def _decide(*, line, action, user, sku, decision_request, today) -> DecisionResult:
    """backorder_decide's work, under the caller's Order lock."""
    locked = locks.lines_lock(line_ids=[line.pk])
    if not locked:
        raise NothingBackordered("No such line.")
    line = locked[0]
    if decision_request is not None:
        request = locks.decision_request_lock(request_id=decision_request.pk)
        if request is None or request.line_id != line.pk:
            raise NothingBackordered("No such decision request.")
        if not request.is_pending:
            raise AlreadyDecided(request)
    else:
        pending = locks.pending_decisions_lock(line_ids=[line.pk])
        request = pending[0] if pending else None
    if line.backordered == 0:
        raise NothingBackordered("Nothing on this line is backordered any more.")

    new_line = None
    if action == DecisionAction.KEEP:
        _keep(line=line)
        status = DecisionStatus.KEPT
    elif action == DecisionAction.CANCEL:
        backorders_cancel(
            lines=[line],
            reason="Cancelled by the retailer: the new date was too late.",
            source=CancelSource.DECISION_DEFAULT,
            today=today,
            record=False,
        )
        status = DecisionStatus.CANCELLED
    else:
        new_line = _switch(line=line, sku_code=sku, today=today)
        status = DecisionStatus.SWITCHED
    if request is not None:
        request.status = status
        request.action = action
        request.decided_by = user
        request.decided_at = timezone.now()
        request.switched_to = new_line
        request.save(update_fields=["status", "action", "decided_by", "decided_at", "switched_to"])
    if action != DecisionAction.KEEP:
        orders_changed_enqueue(order_ids=[line.order_id], cause=f"decision:{line.pk}")
    return DecisionResult(line, action, request, new_line)


@transaction.atomic(savepoint=False)
def _keep(*, line):
    """Extend the locked line's window to the date its run now gives."""
    expected = line_expected_dates(lines=[line]).get(line.pk)
    if expected and (line.window_end is None or expected > line.window_end):
        line.window_end = expected
        line.save(update_fields=["window_end"])


@transaction.atomic(savepoint=False)
def _switch(*, line, sku_code, today):
    code = sku_code_normalize(sku_code)
    alternative = SKU.objects.select_related("style").filter(code__iexact=code).first()
    if alternative is None:
        raise BackorderInputError({"sku": [f"Unknown SKU {code!r}."]})
    allowed = alternative_skus(lines=[line], need_ats=False)[line.pk]
    if alternative not in allowed:
        raise BackorderInputError(
            {"sku": [f"{code} is not an alternative for {line.sku.code} (same size and width)."]}
        )
    quantity = line.backordered
    levels = inventory_locks.stock_levels_lock(sku_ids=[alternative.pk])
    available = sum(level.ats for level in levels)
    if available < quantity:
        raise AlternativeUnavailable(
            f"{alternative.code} has only {available} pairs available now; "
            f"{quantity} are needed. Nothing was changed."
        )
    backorders_cancel(
        lines=[line],
        reason=f"Switched to {alternative.code}.",
        source=CancelSource.DECISION_DEFAULT,
        today=today,
        record=False,
    )
    ships_by = ship_date_from_stock(terms=line.order.terms, today=today)
    taken = stock_takes(levels=levels, sku_id=alternative.pk, quantity=quantity)
    if sum(take for _, take in taken) != quantity:
        raise AlternativeUnavailable(f"{alternative.code} sold out meanwhile. Nothing was changed.")
    new_line = OrderLine(
        order=line.order,
        sku=alternative,
        unit_price=line.unit_price
        if line.order.no_charge
        else account_prices(account=line.order.account, skus=[alternative])[alternative.pk],
        quantity=quantity,
        allocated=quantity,
        promised_date=ships_by,
        communicated_date=ships_by,
        substitute_for=line,
    )
    ledger.lines_place(
        lines=[new_line], takes=[(new_line, level, take) for level, take in taken], parts=[]
    )
    orders_totals_refresh(order_ids=[line.order_id])
    return new_line

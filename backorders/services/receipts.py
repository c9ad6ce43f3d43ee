"""Receiving an inbound run: stock goes first to the backorders pegged to it, oldest
order first, then to ATS."""

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from backorders.exceptions import BackorderInputError, RunNotReceivable
from backorders.locks import lines_lock, pegged_lines_lock
from backorders.models import Receipt
from backorders.services.common import iso, message_line, orders_url, recipients_by_account
from inventory import locks as inventory_locks
from inventory import services as inventory_services
from inventory.models import InboundLine, InboundRun, InboundStatus, StockLevel
from inventory.parsing import sku_code_normalize, whole_pairs
from inventory.selectors import ship_date_from_stock
from notifications.kinds import MessageKind
from notifications.services import message_enqueue
from orders.models import Allocation, BackorderPeg
from orders.services.stock_alerts import stock_alerts_kick

MAX_RECEIPT_LINES = 1000


@dataclass(frozen=True)
class ReceiveRequest:
    sku: object
    quantity: object


@dataclass
class ReceiptResult:
    receipt: Receipt | None
    created: bool
    received: dict[str, int] = field(default_factory=dict)  # sku code -> pairs
    filled: dict[str, int] = field(default_factory=dict)  # sku code -> pairs to backorders
    status: str = ""


def _wanted(*, inbound_lines, requests) -> dict[int, int]:
    """Inbound line id -> pairs received. None requests: everything still outstanding."""
    if requests is None:
        return {line.pk: line.outstanding for line in inbound_lines if line.outstanding > 0}
    errors = {}
    if not requests:
        errors["lines"] = ["List at least one line, or leave lines out to receive everything."]
    elif len(requests) > MAX_RECEIPT_LINES:
        errors["lines"] = [f"At most {MAX_RECEIPT_LINES} lines."]
    by_code = {line.sku.code.upper(): line for line in inbound_lines}
    wanted = {}
    for index, request in enumerate(requests or []):
        code = sku_code_normalize(request.sku)
        line = by_code.get(code)
        if not code:
            errors[f"lines[{index}].sku"] = ["Enter a SKU."]
        elif line is None:
            errors[f"lines[{index}].sku"] = [f"SKU {code} is not on this run."]
        elif line.pk in wanted:
            errors[f"lines[{index}].sku"] = [f"SKU {code} is listed twice."]
        quantity = whole_pairs(request.quantity)
        if quantity is None:
            errors[f"lines[{index}].quantity"] = ["Enter a whole number of pairs."]
        elif quantity <= 0:
            errors[f"lines[{index}].quantity"] = ["Quantity must be at least 1."]
        elif line is not None and quantity > line.outstanding:
            errors[f"lines[{index}].quantity"] = [
                f"Only {line.outstanding} pairs of {code} are still to come."
            ]
        if line is not None and f"lines[{index}].sku" not in errors and quantity:
            wanted[line.pk] = quantity
    if errors:
        raise BackorderInputError(errors)
    return wanted


@transaction.atomic(durable=True)
def run_receive(
    *,
    run: InboundRun,
    user,
    lines: list[ReceiveRequest] | None = None,
    key: str | None = None,
    today: dt.date | None = None,
) -> ReceiptResult:
    """Receive a run, whole (lines=None) or partly by SKU. The received pairs go on hand;
    the backorders pegged to each inbound line are filled oldest order first (allocated,
    pegs reduced, promises released), the rest is ATS. The run is received once every
    pair has arrived. One backorder_filled message per account. With `key`, a retried
    request returns the first receipt and changes nothing."""
    today = today or timezone.localdate()
    if key:
        existing = Receipt.objects.filter(key=key).first()
        if existing is not None:
            return _result_of(existing, created=False)
    # Lock order: OrderLine -> StockLevel -> InboundRun -> InboundLine.
    locked_lines = {line.pk: line for line in pegged_lines_lock(run_id=run.pk)}
    sku_ids = list(InboundLine.objects.filter(run=run).values_list("sku_id", flat=True))
    inventory_services.stock_levels_ensure(pairs=[(sku_id, run.warehouse_id) for sku_id in sku_ids])
    levels = {
        level.sku_id: level
        for level in inventory_locks.stock_levels_lock_for(
            sku_ids=sku_ids, warehouse_ids=[run.warehouse_id]
        )
    }
    run = inventory_locks.inbound_run_lock(run_id=run.pk)
    if run.status == InboundStatus.CANCELLED:
        raise RunNotReceivable(f"Run {run.reference} is cancelled.")
    inbound_lines = inventory_locks.inbound_lines_lock(run_id=run.pk)
    wanted = _wanted(inbound_lines=inbound_lines, requests=lines)
    if not wanted:
        if run.status != InboundStatus.RECEIVED:
            raise RunNotReceivable(f"Nothing of run {run.reference} is still to come.")
        return ReceiptResult(None, created=False, status=run.status)

    pegs = list(
        BackorderPeg.objects.filter(inbound_line_id__in=wanted)
        .select_related("line__order")
        .order_by("line__order__placed_at", "line__order_id", "line_id")
    )
    missing = {peg.line_id for peg in pegs} - set(locked_lines)
    if missing:  # pegged after our first look: the run's lines are locked now, so no more
        locked_lines.update({line.pk: line for line in lines_lock(line_ids=missing)})
    existing_allocations = {
        (a.line_id, a.stock_level_id): a
        for a in Allocation.objects.filter(
            line_id__in={peg.line_id for peg in pegs},
            stock_level_id__in=[level.pk for level in levels.values()],
        )
    }
    pegs_by_inbound = defaultdict(list)
    for peg in pegs:
        pegs_by_inbound[peg.inbound_line_id].append(peg)

    ship_date = ship_date_from_stock(terms=_any_terms(locked_lines), today=today)
    filled_lines = defaultdict(int)  # line id -> pairs filled
    new_allocations, changed_allocations, delete_pegs, changed_pegs = [], [], [], []
    receipt_lines = []
    for inbound in inbound_lines:
        quantity = wanted.get(inbound.pk, 0)
        if not quantity:
            continue
        level = levels[inbound.sku_id]
        remaining = quantity
        for peg in pegs_by_inbound[inbound.pk]:
            if remaining == 0:
                break
            take = min(peg.quantity, remaining)
            remaining -= take
            filled_lines[peg.line_id] += take
            if take == peg.quantity:
                delete_pegs.append(peg.pk)
            else:
                peg.quantity -= take
                changed_pegs.append(peg)
            allocation = existing_allocations.get((peg.line_id, level.pk))
            if allocation is None:
                allocation = Allocation(line_id=peg.line_id, stock_level=level, quantity=take)
                existing_allocations[(peg.line_id, level.pk)] = allocation
                new_allocations.append(allocation)
            else:
                allocation.quantity += take
                if allocation.pk and allocation not in changed_allocations:
                    changed_allocations.append(allocation)
        filled = quantity - remaining
        StockLevel.objects.filter(pk=level.pk).update(
            on_hand=F("on_hand") + quantity, allocated=F("allocated") + filled
        )
        updated = InboundLine.objects.filter(
            pk=inbound.pk, received__lte=F("quantity") - quantity, promised__gte=filled
        ).update(received=F("received") + quantity, promised=F("promised") - filled)
        if not updated:
            raise RunNotReceivable(f"Inbound line {inbound.pk} changed under the receipt.")
        inbound.received += quantity
        inbound.promised -= filled
        receipt_lines.append({"sku": inbound.sku.code, "received": quantity, "filled": filled})

    BackorderPeg.objects.filter(pk__in=delete_pegs).delete()
    BackorderPeg.objects.bulk_update(changed_pegs, ["quantity"])
    Allocation.objects.bulk_create(new_allocations)
    Allocation.objects.bulk_update(changed_allocations, ["quantity"])
    changed_lines = []
    for line_id, take in filled_lines.items():
        line = locked_lines[line_id]
        line.backordered -= take
        line.allocated += take
        if line.backordered == 0:
            line.window_end = None
        line.communicated_date = ship_date
        changed_lines.append(line)
    from orders.models import OrderLine

    OrderLine.objects.bulk_update(
        changed_lines, ["allocated", "backordered", "window_end", "communicated_date"]
    )
    if all(line.received >= line.quantity for line in inbound_lines):
        run.status = InboundStatus.RECEIVED
        run.save(update_fields=["status", "updated_at"])
    receipt = Receipt.objects.create(
        run=run, key=key or None, lines=receipt_lines, received_by=user
    )
    _filled_notify(receipt=receipt, lines=changed_lines, filled=filled_lines, ship_date=ship_date)
    # What the receipt left over is ATS: buyers waiting for these sizes hear now.
    transaction.on_commit(functools.partial(stock_alerts_kick, sku_ids=sku_ids), robust=True)
    return _result_of(receipt, created=True, status=run.status)


def _any_terms(locked_lines):
    from orders.rules import current_terms

    for line in locked_lines.values():
        return line.order.terms
    return current_terms()


def _result_of(receipt, *, created, status=""):
    return ReceiptResult(
        receipt,
        created=created,
        received={row["sku"]: row["received"] for row in receipt.lines},
        filled={row["sku"]: row["filled"] for row in receipt.lines},
        status=status or receipt.run.status,
    )


def _filled_notify(*, receipt, lines, filled, ship_date):
    by_account = defaultdict(list)
    for line in sorted(lines, key=lambda line: (line.order.number or "", line.pk)):
        by_account[line.order.account_id].append(line)
    recipients = recipients_by_account(account_ids=by_account)
    for account_id, account_lines in by_account.items():
        account = account_lines[0].order.account
        message_enqueue(
            kind=MessageKind.BACKORDER_FILLED,
            key=f"filled:{receipt.pk}:{account_id}",
            recipients=recipients.get(account_id, []),
            context={
                "account_name": account.name,
                "run_reference": receipt.run.reference,
                "ship_date": iso(ship_date),
                "lines": [message_line(line, filled[line.pk]) for line in account_lines],
                "orders_url": orders_url(),
            },
        )

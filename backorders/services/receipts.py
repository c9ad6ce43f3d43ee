"""Receiving an inbound run: stock goes first to the backorders pegged to it, oldest
order first, then to ATS."""

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from backorders.exceptions import BackorderInputError, RunNotReceivable
from backorders.models import Receipt
from inventory import locks as inventory_locks
from inventory import services as inventory_services
from inventory.models import InboundLine, InboundRun, InboundStatus
from inventory.parsing import sku_code_normalize, whole_pairs
from inventory.selectors import ship_date_from_stock
from orders import ledger
from orders.notices import backorders_filled_enqueue
from orders.services.moves import moved_lines_tell
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
    the waiting backorders of its SKUs are filled oldest order first, whichever run they
    were pegged to (orders.ledger.receive), the rest is ATS. The run is received once every
    pair has arrived. One backorder_filled message per account. With `key`, a retried
    request returns the first receipt and changes nothing."""
    today = today or timezone.localdate()
    if key:
        existing = Receipt.objects.filter(key=key).first()
        if existing is not None:
            return _result_of(existing, created=False)
    sku_ids = set(InboundLine.objects.filter(run=run).values_list("sku_id", flat=True))
    # Lock order: OrderLine (the run's lines and every line waiting for its SKUs: the
    # pairs go to the oldest first) -> StockLevel -> InboundRun -> InboundLine.
    requests, lines = lines, ledger.lines_lock(waiting_sku_ids=sku_ids)
    inventory_services.stock_levels_ensure(pairs=[(sku_id, run.warehouse_id) for sku_id in sku_ids])
    levels = inventory_locks.stock_levels_lock_for(
        sku_ids=sku_ids, warehouse_ids=[run.warehouse_id]
    )
    run = inventory_locks.inbound_run_lock(run_id=run.pk)
    if run.status == InboundStatus.CANCELLED:
        raise RunNotReceivable(f"Run {run.reference} is cancelled.")
    # Every open inbound line of these SKUs first, in pk order (the fill may move pegs to
    # any of them; two receipts of different runs never wait on each other in a cycle),
    # then this run's (held already unless the run is received).
    inventory_locks.open_inbound_lines_lock(sku_ids=sku_ids)
    inbound_lines = inventory_locks.inbound_lines_lock(run_id=run.pk)
    wanted = _wanted(inbound_lines=inbound_lines, requests=requests)
    if not wanted:
        if run.status != InboundStatus.RECEIVED:
            raise RunNotReceivable(f"Nothing of run {run.reference} is still to come.")
        return ReceiptResult(None, created=False, status=run.status)
    for inbound in inbound_lines:
        inbound.run = run
    result = ledger.receive(
        lines=lines, levels=levels, inbound_lines=inbound_lines, wanted=wanted, today=today
    )
    filled_by_sku = defaultdict(int)
    for line_id, pairs in result.filled.items():
        filled_by_sku[result.lines[line_id].sku_id] += pairs
    receipt_lines = []
    for inbound in inbound_lines:
        if wanted.get(inbound.pk):
            inbound.received += wanted[inbound.pk]
            receipt_lines.append(
                {
                    "sku": inbound.sku.code,
                    "received": wanted[inbound.pk],
                    "filled": min(filled_by_sku.pop(inbound.sku_id, 0), wanted[inbound.pk]),
                }
            )
    if all(line.received >= line.quantity for line in inbound_lines):
        run.status = InboundStatus.RECEIVED
        run.save(update_fields=["status", "updated_at"])
    inventory_services.inbound_run_arrived(run_id=run.pk, on=today)
    receipt = Receipt.objects.create(
        run=run, key=key or None, lines=receipt_lines, received_by=user
    )
    moved_lines_tell(
        lines=result.lines.values(),
        moved=result.moved,
        key=f"moved:receipt:{receipt.pk}",
        reason=f"Production run {run.reference} arrived for older orders first",
    )
    backorders_filled_enqueue(
        lines=result.lines.values(),
        filled=result.filled,
        key=f"filled:{receipt.pk}",
        ship_date=ship_date_from_stock(terms=_any_terms(result.lines), today=today),
        run_reference=run.reference,
    )
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

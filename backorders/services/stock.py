"""Warehouse counts: a count below what is allocated is a shortage. The newest
allocations move to backorder when they may (committed style, an open run with room
inside the line's window, the account and the order accept backorders) or are cancelled,
and the retailers are told the same day."""

import datetime as dt
import functools
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from backorders.exceptions import BackorderInputError
from backorders.models import StockShortage
from backorders.services.common import (
    iso,
    message_line,
    orders_url,
    recipients_by_account,
)
from inventory import locks as inventory_locks
from inventory import services as inventory_services
from inventory.models import SKU, StockLevel, Warehouse
from inventory.parsing import sku_code_normalize, whole_pairs
from inventory.selectors import ship_date_from_stock
from notifications.kinds import MessageKind
from notifications.services import OutgoingMessage, messages_enqueue
from orders import ledger
from orders.models import Allocation
from orders.notices import backorders_filled_enqueue
from orders.rules import current_terms
from orders.selectors import line_promises
from orders.services.moves import moved_lines_tell
from orders.services.ordering import orders_totals_refresh
from orders.services.stock_alerts import stock_alerts_kick
from orders.webhooks.services import orders_changed_enqueue

MAX_COUNTS = 10_000


@dataclass(frozen=True)
class StockCountRequest:
    sku: object
    on_hand: object
    warehouse: object = None


@dataclass
class StockSyncResult:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    shortages: list[StockShortage] = field(default_factory=list)
    backordered: int = 0  # pairs moved to backorder
    cancelled: int = 0  # pairs cancelled


def _validate(counts):
    errors = {}
    if not counts:
        errors["non_field_errors"] = ["Send at least one count."]
    elif len(counts) > MAX_COUNTS:
        errors["non_field_errors"] = [f"At most {MAX_COUNTS} counts per request."]
    if errors:
        raise BackorderInputError(errors)
    codes = {sku_code_normalize(c.sku) for c in counts}
    skus = {sku.code.upper(): sku for sku in SKU.objects.filter(code__in=codes)}
    warehouses = {w.code.upper(): w for w in Warehouse.objects.all()}
    default = next((w for w in warehouses.values() if w.is_default), None)
    rows, seen = [], set()
    for index, count in enumerate(counts):
        code = sku_code_normalize(count.sku)
        sku = skus.get(code)
        if not code:
            errors[f"[{index}].sku"] = ["Enter a SKU."]
        elif sku is None:
            errors[f"[{index}].sku"] = [f"Unknown SKU {code!r}."]
        if count.warehouse in (None, ""):
            warehouse = default
            if warehouse is None:
                errors[f"[{index}].warehouse"] = ["There is no default warehouse; name one."]
        else:
            warehouse = warehouses.get(str(count.warehouse).strip().upper())
            if warehouse is None:
                errors[f"[{index}].warehouse"] = [f"Unknown warehouse {count.warehouse!r}."]
        on_hand = whole_pairs(count.on_hand)
        if on_hand is None:
            errors[f"[{index}].on_hand"] = ["Enter a whole number of pairs."]
        elif on_hand < 0:
            errors[f"[{index}].on_hand"] = ["A count cannot be negative."]
        elif on_hand > 10_000_000:
            errors[f"[{index}].on_hand"] = ["That count is not plausible."]
        if sku and warehouse:
            if (sku.pk, warehouse.pk) in seen:
                errors[f"[{index}].sku"] = ["This SKU and warehouse are counted twice."]
            seen.add((sku.pk, warehouse.pk))
        rows.append((sku, warehouse, on_hand))
    if errors:
        raise BackorderInputError(errors)
    return rows


@transaction.atomic(durable=True)
def stock_sync(*, counts: list[StockCountRequest], user, today: dt.date | None = None):
    """Apply absolute warehouse counts, all or nothing. Where a count is below what is
    allocated, the newest allocations give way: each to backorder if eligible, else
    cancelled; one stock_shortage message per affected account."""
    today = today or timezone.localdate()
    rows = _validate(counts)
    pairs = {(sku.pk, warehouse.pk) for sku, warehouse, _ in rows}
    existing = set(
        StockLevel.objects.filter(
            sku_id__in={p[0] for p in pairs}, warehouse_id__in={p[1] for p in pairs}
        ).values_list("sku_id", "warehouse_id")
    )
    inventory_services.stock_levels_ensure(pairs=pairs - existing)
    wanted = {(sku.pk, warehouse.pk): on_hand for sku, warehouse, on_hand in rows}
    sku_ids = {p[0] for p in pairs}
    short_levels = [
        level.pk
        for level in StockLevel.objects.filter(
            sku_id__in=sku_ids, warehouse_id__in={p[1] for p in pairs}
        )
        if (level.sku_id, level.warehouse_id) in wanted
        and level.allocated > wanted[(level.sku_id, level.warehouse_id)]
    ]
    # Lock order: the ETAs of the runs a shortage may peg lines to, then OrderLine (the
    # lines holding the short levels' stock, and every line waiting for these SKUs, which
    # a count upwards fills) -> StockLevel -> InboundLine.
    inventory_locks.run_etas_share_lock(sku_ids=sku_ids)
    holders = Allocation.objects.filter(stock_level_id__in=short_levels).values_list(
        "line_id", flat=True
    )
    lines = ledger.lines_lock(line_ids=holders, waiting_sku_ids=sku_ids)
    levels = [
        level
        for level in inventory_locks.stock_levels_lock_for(
            sku_ids=sku_ids, warehouse_ids={p[1] for p in pairs}
        )
        if (level.sku_id, level.warehouse_id) in wanted
    ]
    counted = {level.pk: wanted[(level.sku_id, level.warehouse_id)] for level in levels}
    allocated_before = {level.pk: level.allocated for level in levels}
    outcome = ledger.counts_set(lines=lines, levels=levels, counts=counted, today=today)
    result = StockSyncResult(
        created=len(pairs - existing), changed=outcome.changed, unchanged=outcome.unchanged
    )
    outcomes = []
    for level in levels:
        if level.pk not in outcome.outcomes:
            continue
        record = StockShortage(
            stock_level=level,
            counted=counted[level.pk],
            allocated_before=allocated_before[level.pk],
            reported_by=user,
        )
        for item in outcome.outcomes[level.pk]:
            if item.outcome == "backordered":
                record.backordered += item.quantity
            else:
                record.cancelled += item.quantity
            outcomes.append((item.line, item.quantity, item.outcome, item.expected))
        record.save()
        result.shortages.append(record)
        result.backordered += record.backordered
        result.cancelled += record.cancelled
    changed_orders = {line.order_id for line, *_ in outcomes}
    orders_totals_refresh(order_ids=changed_orders)
    if outcomes:
        _shortage_notify(outcomes=outcomes, first=result.shortages[0])
        orders_changed_enqueue(order_ids=changed_orders, cause=f"shortage:{result.shortages[0].pk}")
    _filled_notify(outcome.filled, today=today)
    if result.changed:
        # A count upwards may bring sizes back: buyers waiting for them hear now.
        transaction.on_commit(
            functools.partial(stock_alerts_kick, sku_ids=sku_ids),
            robust=True,
        )
    return result


@transaction.atomic(savepoint=False)
def stock_holdback_write(*, sku_id: int, write: Callable[[], None], today=None) -> None:
    """A planner's holdback edit (`write` sets it): taken in the ledger's lock order (the
    runs' ETAs, then the SKU's waiting lines, before the level the edit locks), and pairs
    a lowered holdback frees go to waiting backorders before anyone else."""
    today = today or timezone.localdate()
    inventory_locks.run_etas_share_lock(sku_ids={sku_id})
    lines = ledger.lines_lock(waiting_sku_ids=[sku_id])
    write()
    _filled_notify(ledger.free_fill(lines=lines, sku_ids={sku_id}, today=today), today=today)


def _filled_notify(filled, *, today) -> None:
    """Tell the accounts whose backorders freed pairs just filled (one message each), and
    those whose lines gave their run to an older order (moved_lines_tell)."""
    moved_lines_tell(
        lines=filled.lines.values(),
        moved=filled.moved,
        key=f"moved:{uuid.uuid4().hex}",
        reason="Freed pairs went to older orders first",
    )
    if filled.filled:
        backorders_filled_enqueue(
            lines=filled.lines.values(),
            filled=filled.filled,
            key=f"filled:{uuid.uuid4().hex}",
            ship_date=ship_date_from_stock(terms=current_terms(), today=today),
        )


def _shortage_notify(*, outcomes, first):
    """One message per account for the whole count, listing every line it touched."""
    by_account = defaultdict(list)
    promises = line_promises(lines=[line for line, *_, expected in outcomes if expected])
    for line, quantity, outcome, expected in sorted(
        outcomes, key=lambda item: (item[0].order.number or "", item[0].pk)
    ):
        row = message_line(line, quantity, outcome=outcome)
        if expected:
            row["expected_date"] = iso(expected)
            row["expected_basis"] = promises[line.pk].basis if line.pk in promises else ""
        by_account[line.order.account].append(row)
    recipients = recipients_by_account(account_ids={account.pk for account in by_account})
    url = orders_url()
    messages_enqueue(
        kind=MessageKind.STOCK_SHORTAGE,
        messages=[
            OutgoingMessage(
                key=f"shortage:{first.pk}:{account.pk}",
                recipients=recipients.get(account.pk, []),
                context={"account_name": account.name, "lines": rows, "orders_url": url},
            )
            for account, rows in by_account.items()
        ],
    )

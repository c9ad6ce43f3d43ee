"""Warehouse counts: a count below what is allocated is a shortage. The newest
allocations move to backorder when they may (committed style, an open run with room
inside the line's window, the account and the order accept backorders) or are cancelled,
and the retailers are told the same day."""

import dataclasses
import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from backorders.exceptions import BackorderInputError
from backorders.locks import allocated_lines_lock
from backorders.models import StockShortage
from backorders.services.common import (
    iso,
    recipients_by_account,
    sku_description,
)
from inventory import locks as inventory_locks
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from inventory.models import SKU, StockLevel, Warehouse
from inventory.parsing import sku_code_normalize, whole_pairs
from notifications.kinds import MessageKind
from notifications.services import message_enqueue
from orders import rules
from orders.models import Allocation, BackorderPeg, BackorderPolicy, OrderLine
from orders.services.ordering import orders_totals_refresh
from orders.services.stock_alerts import stock_alerts_kick

MAX_COUNTS = 10_000
SHORTAGE_REASON = "Warehouse stock shortage"


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
    cancelled; one stock_shortage message per affected order."""
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
    short_levels = [
        level
        for level in StockLevel.objects.filter(
            sku_id__in={p[0] for p in pairs}, warehouse_id__in={p[1] for p in pairs}
        )
        if (level.sku_id, level.warehouse_id) in wanted
        and level.allocated > wanted[(level.sku_id, level.warehouse_id)]
    ]
    # Lock order: the ETAs of the runs a shortage may peg lines to, then OrderLine ->
    # StockLevel -> InboundLine.
    inventory_locks.run_etas_share_lock(sku_ids={level.sku_id for level in short_levels})
    lines = {
        line.pk: line
        for line in allocated_lines_lock(stock_level_ids=[level.pk for level in short_levels])
    }
    levels = [
        level
        for level in inventory_locks.stock_levels_lock_for(
            sku_ids={p[0] for p in pairs}, warehouse_ids={p[1] for p in pairs}
        )
        if (level.sku_id, level.warehouse_id) in wanted
    ]
    result = StockSyncResult(created=len(pairs - existing))
    short = [
        level for level in levels if level.allocated > wanted[(level.sku_id, level.warehouse_id)]
    ]
    outcomes = []  # (line, quantity, outcome, expected date)
    if short:
        missing = set(
            Allocation.objects.filter(stock_level__in=short).values_list("line_id", flat=True)
        ) - set(lines)
        if missing:  # allocated after our first look
            from backorders.locks import lines_lock

            lines.update({line.pk: line for line in lines_lock(line_ids=missing)})
        slots = inventory_selectors.slots_from_lines(
            inventory_locks.open_inbound_lines_lock(sku_ids={level.sku_id for level in short})
        )
        for level in short:
            counted = wanted[(level.sku_id, level.warehouse_id)]
            record = StockShortage(
                stock_level=level,
                counted=counted,
                allocated_before=level.allocated,
                reported_by=user,
            )
            _shortage_resolve(
                level=level,
                shortage=level.allocated - counted,
                lines=lines,
                slots=slots,
                record=record,
                outcomes=outcomes,
                today=today,
            )
            record.save()
            result.shortages.append(record)
            result.backordered += record.backordered
            result.cancelled += record.cancelled
    for level in levels:
        on_hand = wanted[(level.sku_id, level.warehouse_id)]
        if level.on_hand == on_hand:
            result.unchanged += 1
            continue
        level.refresh_from_db(fields=["allocated"])
        inventory_services.stock_count_set(level=level, on_hand=on_hand)
        result.changed += 1
    if outcomes:
        changed = list({line.pk: line for line, *_ in outcomes}.values())
        OrderLine.objects.bulk_update(
            changed,
            [
                "allocated",
                "backordered",
                "cancelled",
                "cancel_reason",
                "window_end",
                "communicated_date",
            ],
        )
        orders_totals_refresh(order_ids={line.order_id for line in changed})
        _shortage_notify(outcomes=outcomes, first=result.shortages[0])
    if result.changed:
        # A count upwards may bring sizes back: buyers waiting for them hear now.
        transaction.on_commit(
            functools.partial(stock_alerts_kick, sku_ids={level.sku_id for level in levels}),
            robust=True,
        )
    return result


def _shortage_resolve(*, level, shortage, lines, slots, record, outcomes, today):
    remaining = shortage
    allocations = Allocation.objects.filter(stock_level=level).order_by("-created_at", "-pk")
    for allocation in allocations:
        if remaining == 0:
            break
        take = min(allocation.quantity, remaining)
        remaining -= take
        inventory_services.stock_release(stock_level_id=level.pk, quantity=take)
        if take == allocation.quantity:
            allocation.delete()
        else:
            allocation.quantity -= take
            allocation.save(update_fields=["quantity"])
        line = lines[allocation.line_id]
        line.allocated -= take
        _backorder_or_cancel(
            line=line, quantity=take, slots=slots, record=record, outcomes=outcomes, today=today
        )


def _backorder_or_cancel(*, line, quantity, slots, record, outcomes, today):
    order = line.order
    eligible = (
        order.account.accepts_backorders
        and order.backorder_policy == BackorderPolicy.ALLOW
        and order.status in ("open", "partially_shipped")
    )
    window_end = line.window_end or rules.backorder_window_end(
        account=order.account,
        terms=order.terms,
        cancel_date=order.cancel_date,
        today=timezone.localdate(order.placed_at),
    )
    promise = inventory_selectors.promise_plan(
        sku=line.sku,
        quantity=quantity,
        ats=0,
        slots=slots.get(line.sku_id, []),
        terms=order.terms,
        window_end=window_end,
        allow_backorder=eligible,
        today=today,
    )
    for part in promise.inbound_parts:
        inventory_services.inbound_promise(
            inbound_line_id=part.inbound_line_id, quantity=part.quantity
        )
        peg, created = BackorderPeg.objects.get_or_create(
            line=line, inbound_line_id=part.inbound_line_id, defaults={"quantity": part.quantity}
        )
        if not created:
            peg.quantity += part.quantity
            peg.save(update_fields=["quantity"])
        slots[line.sku_id] = [
            dataclasses.replace(slot, available=slot.available - part.quantity)
            if slot.inbound_line_id == part.inbound_line_id
            else slot
            for slot in slots[line.sku_id]
            # an exhausted slot would be planned again as a zero-pair part (and peg)
            if slot.inbound_line_id != part.inbound_line_id or slot.available > part.quantity
        ]
    if promise.backordered:
        line.backordered += promise.backordered
        line.window_end = window_end
        line.communicated_date = max(promise.ships_by, line.communicated_date or promise.ships_by)
        record.backordered += promise.backordered
        outcomes.append((line, promise.backordered, "backordered", promise.ships_by))
    if promise.unpromised:
        line.cancelled += promise.unpromised
        line.cancel_reason = f"{SHORTAGE_REASON}: {promise.reason}"[:200]
        record.cancelled += promise.unpromised
        outcomes.append((line, promise.unpromised, "cancelled", None))


def _shortage_notify(*, outcomes, first):
    by_order = defaultdict(list)
    for line, quantity, outcome, expected in outcomes:
        by_order[line.order_id].append((line, quantity, outcome, expected))
    recipients = recipients_by_account(
        account_ids={items[0][0].order.account_id for items in by_order.values()}
    )
    from django.conf import settings
    from django.urls import reverse

    for order_id, items in by_order.items():
        order = items[0][0].order
        rows = []
        for line, quantity, outcome, expected in items:
            row = {
                "sku": line.sku.code,
                "description": sku_description(line.sku),
                "quantity": quantity,
                "outcome": outcome,
            }
            if expected:
                row["expected_date"] = iso(expected)
            rows.append(row)
        message_enqueue(
            kind=MessageKind.STOCK_SHORTAGE,
            key=f"shortage:{first.pk}:{order_id}",
            recipients=recipients.get(order.account_id, []),
            context={
                "account_name": order.account.name,
                "order_number": order.number,
                "po_number": order.po_number,
                "lines": rows,
                "order_url": settings.SITE_URL + reverse("portal:backorders"),
            },
        )

"""Write use cases for stock and inbound. The counters helpers here run inside a caller's
transaction (placement, cancellation, receipts) after the caller has locked the rows in
inventory.locks; each counter moves with one conditional UPDATE, never in Python."""

from django.db import transaction
from django.db.models import F

from inventory.exceptions import InboundOverPromised, InsufficientStock
from inventory.models import InboundLine, StockLevel


@transaction.atomic(savepoint=False)
def stock_allocate(*, levels, sku_id: int, quantity: int) -> list[tuple[StockLevel, int]]:
    """Allocate up to `quantity` of a SKU from its locked stock levels, default warehouse
    first. Returns (level, quantity) per level used; allocates less if ATS is short."""
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
        updated = StockLevel.objects.filter(
            pk=level.pk, on_hand__gte=F("allocated") + F("holdback") + take
        ).update(allocated=F("allocated") + take)
        if not updated:
            raise InsufficientStock(level.sku_id, take, 0)
        level.allocated += take
        taken.append((level, take))
        remaining -= take
        if remaining == 0:
            break
    return taken


def stock_release(*, stock_level_id: int, quantity: int) -> None:
    """Give allocated pairs back to ATS (a cancellation or a shortage)."""
    updated = StockLevel.objects.filter(pk=stock_level_id, allocated__gte=quantity).update(
        allocated=F("allocated") - quantity
    )
    if not updated:
        raise InsufficientStock(stock_level_id, quantity, 0)


def inbound_promise(*, inbound_line_id: int, quantity: int) -> None:
    """Promise pairs of an inbound line to a backorder; never more than it still brings."""
    updated = InboundLine.objects.filter(
        pk=inbound_line_id, promised__lte=F("quantity") - F("received") - quantity
    ).update(promised=F("promised") + quantity)
    if not updated:
        raise InboundOverPromised(f"Inbound line {inbound_line_id} cannot take {quantity} more.")


def inbound_unpromise(*, inbound_line_id: int, quantity: int) -> None:
    updated = InboundLine.objects.filter(pk=inbound_line_id, promised__gte=quantity).update(
        promised=F("promised") - quantity
    )
    if not updated:
        raise InboundOverPromised(
            f"Inbound line {inbound_line_id} has fewer than {quantity} promised."
        )

from django.core.exceptions import ValidationError


class InventoryError(Exception):
    """Base class for inventory domain errors."""


class InsufficientStock(InventoryError):
    def __init__(self, sku_code, requested, available):
        self.sku_code, self.requested, self.available = sku_code, requested, available
        super().__init__(f"{sku_code}: {requested} requested, only {available} available.")


class InboundOverPromised(InventoryError):
    """An inbound line cannot take more promises than it still has to deliver."""


class StockShortage(InventoryError):
    """A stock count below what is already allocated: invariant 1 (allocated <= on_hand)
    would break. The shortage is resolved by backorders.services.stock_sync, which moves
    the newest allocations to backorder or cancels them before the count is applied."""

    def __init__(self, shortages):
        self.shortages = list(shortages)
        super().__init__(
            "; ".join(
                f"{s.sku_code}@{s.warehouse_code}: count {s.on_hand} is below the "
                f"{s.allocated} pairs allocated"
                for s in self.shortages
            )
        )


class InventoryInputError(ValidationError):
    """Bad input for an inventory write: `message_dict` names each offending field or
    line, e.g. {"eta": [...], "lines[1].quantity": [...]}."""


class EtaChangeRequired(InventoryInputError):
    """An inbound update carried a different ETA: ETAs move only through the ETA change
    (with a reason), so every move is recorded and the retailers are told."""

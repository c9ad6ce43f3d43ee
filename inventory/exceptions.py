class InventoryError(Exception):
    """Base class for inventory domain errors."""


class InsufficientStock(InventoryError):
    def __init__(self, sku_code, requested, available):
        self.sku_code, self.requested, self.available = sku_code, requested, available
        super().__init__(f"{sku_code}: {requested} requested, only {available} available.")


class InboundOverPromised(InventoryError):
    """An inbound line cannot take more promises than it still has to deliver."""

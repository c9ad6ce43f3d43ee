from orders.services.ordering import (
    CancelRequest,
    LineRequest,
    PlacementResult,
    line_quantity_cancel,
    order_cancel,
    order_place,
    order_status_for,
)

__all__ = [
    "CancelRequest",
    "LineRequest",
    "PlacementResult",
    "line_quantity_cancel",
    "order_cancel",
    "order_place",
    "order_status_for",
]

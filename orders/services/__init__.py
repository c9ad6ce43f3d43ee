from orders.services.ordering import (
    CancelRequest,
    LineRequest,
    PlacementResult,
    order_cancel,
    order_place,
    order_status_for,
)

__all__ = [
    "CancelRequest",
    "LineRequest",
    "PlacementResult",
    "order_cancel",
    "order_place",
    "order_status_for",
]

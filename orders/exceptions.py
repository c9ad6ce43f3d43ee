from django.core.exceptions import ValidationError


class OrderError(Exception):
    """Base class for ordering domain errors."""


class OrderNotAllowed(OrderError):
    """The user may not place or change orders for this account."""


class IdempotencyKeyReused(OrderError):
    """The idempotency key was already used for a different request."""

    def __init__(self, order):
        self.order = order
        super().__init__(
            f"Idempotency key already used for order {order.number} with another body."
        )


class IdempotencyKeyInFlight(OrderError):
    """Another request with this idempotency key is still being processed."""


class OrderInputError(ValidationError):
    """Bad input: `message_dict` names each offending field or line, e.g. "lines[2].sku"."""

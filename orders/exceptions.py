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


class OrderOnCreditHold(OrderInputError):
    """The order is on credit hold: it may not ship until customer service releases it.
    Named on the "order" field, so every door that reports bad input reports it; the
    shipments API answers it with 409."""

    def __init__(self, order):
        self.order = order
        reasons = " ".join(reason["reason"] for reason in order.credit_hold_reasons)
        super().__init__(
            {
                "order": [
                    f"Order {order.number} is on credit hold and may not ship until customer "
                    f"service releases it. {reasons}".strip()
                ]
            }
        )

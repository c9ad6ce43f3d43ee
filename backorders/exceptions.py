from django.core.exceptions import ValidationError


class BackorderError(Exception):
    """Base class for backorder domain errors."""


class BackorderInputError(ValidationError):
    """Bad input: `message_dict` names each offending field or row, e.g. "[3].on_hand"."""


class DecisionNotAllowed(BackorderError):
    """The user may not decide for this account."""


class AlreadyDecided(BackorderError):
    def __init__(self, request):
        self.request = request
        super().__init__(f"This decision was already made: {request.get_status_display()}.")


class AlternativeUnavailable(BackorderError):
    """The alternative is not (or no longer) available for the quantity: nothing changed."""


class NothingBackordered(BackorderError):
    """The line has no backordered pairs left to decide on."""


class RunNotReceivable(BackorderError):
    """The run is cancelled or already fully received."""

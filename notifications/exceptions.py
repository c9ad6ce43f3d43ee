class NotificationError(Exception):
    """Base class for the notifications app's domain errors."""


class InvalidMessageContext(NotificationError, ValueError):
    """The context cannot be stored or rendered: not JSON, or a required key missing."""


class UnknownMessageKind(NotificationError, ValueError):
    pass


class InvalidMessageKey(NotificationError, ValueError):
    pass


class NotResendable(NotificationError):
    """The message cannot be resent (a digest envelope, or no address to send to)."""


class PermanentDeliveryError(NotificationError):
    """The mail server refused the message for good: retrying will not help."""

class WebhookError(Exception):
    """Base class for the webhooks app's domain errors."""


class UnsafeWebhookURL(WebhookError, ValueError):
    """The URL is not one we send to: not http(s), or its host is (or resolves to) a
    loopback, private, link-local or otherwise non-public address."""


class WebhookInputError(WebhookError, ValueError):
    """Bad subscription input; ``errors`` is {field: [message]}."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors

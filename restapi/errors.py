"""One JSON error shape for the whole API: {"detail", "errors": {field: [messages]}}.

Nested field errors are flattened to one level and keyed like the request body, e.g.
"lines[2].quantity"; errors that belong to no field are under "non_field_errors"."""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

NON_FIELD = "non_field_errors"
SERVER_ERROR = (
    "Unexpected server error; it has been logged. Retrying with the same Idempotency-Key is safe."
)

logger = logging.getLogger("restapi")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in one sentence.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='Messages per field or line, keyed like the body: "lines[2].quantity".',
    )

    class Meta:
        ref_name = "Error"


def flat_errors(errors, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors ({"lines": [{}, {"sku": [..]}]}) as {"lines[1].sku": [..]}."""
    if isinstance(errors, dict):
        flat: dict[str, list[str]] = {}
        for key, value in errors.items():
            if isinstance(key, int):
                name = f"{prefix}[{key}]"
            elif key == NON_FIELD and prefix:
                name = prefix  # {"lines": {"non_field_errors": [..]}}: about the list itself
            elif prefix:
                name = f"{prefix}.{key}"
            else:
                name = str(key)
            for field, messages in flat_errors(value, name).items():
                flat.setdefault(field, []).extend(messages)
        return flat
    if isinstance(errors, list | tuple):
        if all(isinstance(item, str) for item in errors):
            return {prefix or NON_FIELD: [str(item) for item in errors]} if errors else {}
        flat = {}
        for index, value in enumerate(errors):
            if not value:
                continue
            name = f"{prefix}[{index}]" if isinstance(value, dict | list | tuple) else prefix
            for field, messages in flat_errors(value, name).items():
                flat.setdefault(field, []).extend(messages)
        return flat
    return {prefix or NON_FIELD: [str(errors)]}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD: exc.messages}
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return _server_error(exc, context)
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        detail, errors = "Invalid input.", flat_errors(data)
    elif isinstance(data, dict) and set(data) <= {"detail", "errors"} and "detail" in data:
        detail, errors = str(data["detail"]), flat_errors(data.get("errors") or {})
    else:
        detail, errors = "Request refused.", flat_errors(data)
    response.data = {"detail": detail, "errors": errors}
    return response


def _server_error(exc, context):
    """An exception no handler expected: logged with its traceback, and answered in the
    API's JSON error shape rather than the site's HTML error page (DEBUG keeps Django's
    technical page)."""
    if settings.DEBUG:
        return None
    request = context.get("request")
    logger.error(
        "Unexpected API error: %s %s",
        getattr(request, "method", "?"),
        getattr(request, "path", "?"),
        exc_info=exc,
    )
    set_rollback()
    return error_response(SERVER_ERROR, status_code=status.HTTP_500_INTERNAL_SERVER_ERROR)


def error_response(detail, errors=None, status_code=status.HTTP_400_BAD_REQUEST):
    return Response({"detail": detail, "errors": errors or {}}, status=status_code)


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(request, *args, **kwargs):
    """Any path under /api/ that names no endpoint: the API's JSON 404 (after the usual
    authentication), not the site's HTML page."""
    raise exceptions.NotFound("No such API endpoint.")

"""Hostile request bodies stopped at the door of the API, before any view or parser.

A body over Django's DATA_UPLOAD_MAX_MEMORY_SIZE is a 413, read no further. JSON
nested deeper than API_MAX_JSON_DEPTH is a 400: Python's json module recurses once per
level, so a few thousand levels raise RecursionError inside the parser, a 500. Both
answer in the API's one error shape (restapi.errors)."""

import re

from django.conf import settings
from django.http import JsonResponse

from restapi.errors import NON_FIELD

API_PREFIX = "/api/"
# The deepest body the API accepts is three levels ({"lines": [{...}]}); room to spare.
DEFAULT_MAX_JSON_DEPTH = 32
# A whole string (possessive, so a long one is scanned once) or one bracket.
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')


def json_too_deep(body: bytes, limit: int) -> bool:
    """Whether the JSON text opens more than `limit` arrays or objects inside each other
    (brackets inside strings do not count). Needs no parse, so it cannot recurse."""
    depth = 0
    for match in _JSON_TOKENS.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


def _error(detail: str, status: int, errors=None) -> JsonResponse:
    return JsonResponse({"detail": detail, "errors": errors or {}}, status=status)


class ApiBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(API_PREFIX) and request.method in {
            "POST",
            "PUT",
            "PATCH",
            "DELETE",
        }:
            refused = self._refusal(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def _refusal(self, request) -> JsonResponse | None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return _error(
                f"The body is {length:,} bytes; the most accepted is {limit:,}. "
                "Send it in smaller parts (for stock counts: batches of rows).",
                413,
            )
        depth = getattr(settings, "API_MAX_JSON_DEPTH", DEFAULT_MAX_JSON_DEPTH)
        if length and json_too_deep(request.body, depth):
            return _error(
                "Invalid input.",
                400,
                {NON_FIELD: [f"JSON may nest at most {depth} arrays or objects deep."]},
            )
        return None

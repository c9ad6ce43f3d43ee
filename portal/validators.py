"""Text the database cannot store, refused at the door with a clear 400.

PostgreSQL text cannot hold NUL (0x00): psycopg2 raises before the query is sent, which
would be a 500 wherever a raw request value (a search box, a filter, an order number in
the URL) reaches a query. Django's form fields and the API's JSON parser already refuse
NUL in what they parse (ProhibitNullCharactersValidator, restapi.parsers); this
middleware covers everything else in one place: the path, the query string and
form-encoded fields (names and values), for every view, portal and API alike.
"""

from django.core.validators import ProhibitNullCharactersValidator
from django.http import HttpResponseBadRequest, JsonResponse

NUL_MESSAGE = "Text may not contain NUL (0x00) characters."

prohibit_nul = ProhibitNullCharactersValidator(message=NUL_MESSAGE)


def has_nul(value) -> bool:
    return isinstance(value, str) and "\x00" in value


def unstorable_parameter(request) -> str | None:
    """The name of the first request part carrying a NUL: "path", a query parameter's or
    a form field's name; None if there is none."""
    if has_nul(request.path):
        return "path"
    sources = [request.GET]
    # The API parses JSON only (a form body gets its 415 there), so its forms are not read.
    if (
        not request.path.startswith("/api/")
        and request.method == "POST"
        and request.content_type
        in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        )
    ):
        sources.append(request.POST)
    for source in sources:
        for name, values in source.lists():
            if has_nul(name):
                return repr(name.replace("\x00", "\\x00"))
            if any(has_nul(value) for value in values):
                return name
    return None


class RejectUnstorableTextMiddleware:
    """400, naming the parameter, for a request whose path, query or form carries NUL."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = unstorable_parameter(request)
        if where is None:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": "Invalid input.", "errors": {where: [NUL_MESSAGE]}}, status=400
            )
        return HttpResponseBadRequest(
            f"Bad request: {where}: {NUL_MESSAGE}", content_type="text/plain; charset=utf-8"
        )

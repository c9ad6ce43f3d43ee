"""The line sheet download offered from the catalogue: the account's sheet of one season
and/or one category (or all), as a PDF or an XLSX rendered by a worker (202 and a page
that polls while it is rendered, like statements; one made in the last minutes is served
as it is)."""

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import Http404
from django.views.decorators.http import require_GET

from orders.line_sheets import (
    FORMATS,
    LineSheetCategoryUnknown,
    line_sheet_scope,
    line_sheet_stored_or_queued,
)
from portal.views.documents import preparing_response, stored_response


@login_required
@require_GET
def line_sheet(request):
    account = request.account or None
    file_format = request.GET.get("format", "pdf")
    scope = {
        "category": request.GET.get("category", "").strip(),
        "season": request.GET.get("season", "").strip().upper(),
    }
    if account is None or file_format not in FORMATS:
        raise Http404("No such line sheet.")
    try:
        stored = line_sheet_stored_or_queued(account=account, **scope, file_format=file_format)
    except LineSheetCategoryUnknown:
        raise Http404("No such category or season.") from None
    if stored is None:
        return preparing_response(request, what=f"The line sheet of {line_sheet_scope(**scope)}")
    return stored_response(
        request,
        default_storage.open(stored, "rb"),
        filename=stored.rsplit("/", 1)[1],
        content_type=FORMATS[file_format],
    )

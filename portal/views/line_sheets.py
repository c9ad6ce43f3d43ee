"""The line sheet download offered from the catalogue: the account's sheet of one season
and/or one category (or all), as a PDF rendered by a worker (202 and a page that polls
while it is rendered, like statements; one made in the last minutes is served as it is)
or as an XLSX written on the request."""

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import Http404
from django.views.decorators.http import require_GET

from orders.line_sheets import (
    LineSheetCategoryUnknown,
    line_sheet_category_check,
    line_sheet_for,
    line_sheet_render_queue,
    line_sheet_scope,
    line_sheet_stored,
    line_sheet_xlsx_response,
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
    if account is None or file_format not in ("pdf", "xlsx"):
        raise Http404("No such line sheet.")
    try:
        if file_format == "xlsx":
            return line_sheet_xlsx_response(sheet=line_sheet_for(account=account, **scope))
        stored = line_sheet_stored(account=account, **scope)
        if stored is None:
            line_sheet_category_check(**scope)
    except LineSheetCategoryUnknown:
        raise Http404("No such category or season.") from None
    if stored is None:
        line_sheet_render_queue(account_id=account.pk, **scope)
        return preparing_response(request, what=f"The line sheet of {line_sheet_scope(**scope)}")
    filename = stored.rsplit("/", 1)[1]
    return stored_response(request, default_storage.open(stored, "rb"), filename=filename)

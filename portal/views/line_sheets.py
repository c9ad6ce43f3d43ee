"""The line sheet download offered from the catalogue: the account's sheet of one
category (or all), as a PDF rendered by a worker (202 and a page that polls while it is
rendered, like statements) or as an XLSX written on the request."""

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import Http404
from django.views.decorators.http import require_GET

from orders.line_sheets import (
    LineSheetCategoryUnknown,
    line_sheet_file_name,
    line_sheet_fingerprint,
    line_sheet_for,
    line_sheet_render_queue,
    line_sheet_xlsx_response,
)
from portal.views.documents import preparing_response, stored_response


@login_required
@require_GET
def line_sheet(request):
    account = request.account or None
    file_format = request.GET.get("format", "pdf")
    if account is None or file_format not in ("pdf", "xlsx"):
        raise Http404("No such line sheet.")
    try:
        sheet = line_sheet_for(account=account, category=request.GET.get("category", "").strip())
    except LineSheetCategoryUnknown:
        raise Http404("No such category.") from None
    if file_format == "xlsx":
        return line_sheet_xlsx_response(sheet=sheet)
    fingerprint = line_sheet_fingerprint(sheet)
    try:
        stored = default_storage.open(line_sheet_file_name(sheet=sheet, fingerprint=fingerprint))
    except FileNotFoundError:  # never made, or expired
        line_sheet_render_queue(
            account_id=account.pk, category=sheet.category, fingerprint=fingerprint
        )
        scope = sheet.category or "all categories"
        return preparing_response(request, what=f"The line sheet of {scope}")
    return stored_response(request, stored, filename=f"{sheet.file_stem}.pdf")

"""CSV exports from the admin lists, safe to open in a spreadsheet."""

import csv

from django.contrib import admin
from django.http import HttpResponse
from django.utils import timezone

from orders.exports import cell


def csv_cell(value) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula gets a quote."""
    return str(cell(value))


def csv_response(*, filename, header, rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([csv_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return response


def export_csv_action(*, filename, columns, select_related=()):
    """An admin action exporting the selected rows; columns are (header, attribute path)."""

    def read(obj, dotted):
        for part in dotted.split("__"):
            obj = getattr(obj, part, None)
            if obj is None:
                return ""
        return obj() if callable(obj) else obj

    @admin.action(description="Export CSV")
    def export_csv(modeladmin, request, queryset):
        rows = (
            [read(obj, dotted) for _, dotted in columns]
            for obj in queryset.select_related(*select_related).iterator(chunk_size=2000)
        )
        return csv_response(
            filename=f"{filename}-{timezone.localdate():%Y%m%d}.csv",
            header=[title for title, _ in columns],
            rows=rows,
        )

    return export_csv

"""Spreadsheet exports of the lists a store keeps (orders, order lines, backorders,
shipments, invoices) as CSV or XLSX, for the portal's lists and the API's alike.

One `Export` describes a list's columns and the joins and sums they read; one writer per
format turns any of them into a download. Rows are read with a server-side cursor in
chunks, so memory stays flat and the query count does not grow with the rows (an export
that needs more than its one query, e.g. backorders' expected dates, asks once per chunk
of CHUNK rows). Text that a spreadsheet would run as a formula is written with a leading
quote."""

import csv
import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice

import xlsxwriter
from django.db.models import Count, F, QuerySet, Sum
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from orders.models import OrderLine
from orders.selectors import line_promises

FORMATS = ("csv", "xlsx")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 2000


def cell(value):
    """A value as a spreadsheet should show it: numbers and dates as themselves, text
    that would start a formula (= + - @ tab CR) behind a quote, a time in local time."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, int | Decimal | dt.date):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


@dataclass(frozen=True)
class Export:
    name: str  # the file's name, before the date
    columns: tuple[tuple[str, Callable], ...]  # (header, read a row)
    prepare: Callable[[QuerySet], QuerySet]  # the joins and sums the columns read
    enrich: Callable[[list], None] | None = None  # reads a chunk of rows needs, once per chunk

    def rows(self, queryset: QuerySet) -> Iterator[list]:
        """Each row's cells, the header excluded."""
        objects = self.prepare(queryset).iterator(chunk_size=CHUNK)
        while chunk := list(islice(objects, CHUNK)):
            if self.enrich:
                self.enrich(chunk)
            for obj in chunk:
                yield [cell(read(obj)) for _, read in self.columns]

    @property
    def header(self) -> list[str]:
        return [title for title, _ in self.columns]


class _Echo:
    """csv.writer's file: hands each written line straight back."""

    def write(self, value):
        return value


def csv_lines(*, export: Export, queryset: QuerySet) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # The byte order mark makes Excel read the file as UTF-8 (accents in names).
    yield "\ufeff" + writer.writerow(export.header)
    for row in export.rows(queryset):
        yield writer.writerow(row)


def xlsx_write(file, *, title: str, header: list[str], rows: Iterable[list]) -> None:
    """A workbook of one sheet written into `file`, row by row (constant memory; a zip
    is complete only at its end). `rows` hold cells (see cell())."""
    workbook = xlsxwriter.Workbook(file, {"constant_memory": True})
    sheet = workbook.add_worksheet(title[:31])
    bold = workbook.add_format({"bold": True})
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    money = workbook.add_format({"num_format": "#,##0.00"})
    sheet.write_row(0, 0, header, bold)
    sheet.freeze_panes(1, 0)
    for index, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write_datetime(index, column, value, date)
            elif isinstance(value, Decimal):
                sheet.write_number(index, column, value, money)
            elif isinstance(value, int):
                sheet.write_number(index, column, value)
            else:
                # Always a string cell, never a formula, whatever the text.
                sheet.write_string(index, column, value)
    workbook.close()


def xlsx_response(*, title: str, header: list[str], rows: Iterable[list], filename: str):
    """A workbook of one sheet (see xlsx_write), written into a temporary file and sent
    as a download."""
    # Handed to the FileResponse, which closes it once sent.
    file = tempfile.TemporaryFile()  # noqa: SIM115
    xlsx_write(file, title=title, header=header, rows=rows)
    file.seek(0)
    return FileResponse(file, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)


def export_response(*, export: Export, queryset: QuerySet, file_format: str, label: str = ""):
    """The download: CSV streamed as it is read, or XLSX."""
    stem = "-".join(filter(None, [export.name, label, f"{timezone.localdate():%Y%m%d}"]))
    if file_format == "xlsx":
        return xlsx_response(
            title=export.name.replace("-", " ").capitalize(),
            header=export.header,
            rows=export.rows(queryset),
            filename=f"{stem}.xlsx",
        )
    response = StreamingHttpResponse(
        csv_lines(export=export, queryset=queryset), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
    return response


# --- The lists ---------------------------------------------------------------------------


def _set_expected_dates(lines: Iterable[OrderLine]) -> None:
    """Each backordered line's expected date and what it rests on, from the ETA table's
    one selector."""
    lines = list(lines)
    promises = line_promises(lines=[line for line in lines if line.backordered])
    for line in lines:
        promise = promises.get(line.pk)
        line.expected_date = promise.date if promise else None
        line.expected_basis = promise.basis if promise else ""


ORDERS = Export(
    name="orders",
    columns=(
        ("Order", lambda o: o.number),
        ("Account", lambda o: o.account.number),
        ("PO number", lambda o: o.po_number),
        ("Status", lambda o: o.get_status_display()),
        ("Source", lambda o: o.get_source_display()),
        ("Placed", lambda o: o.placed_at),
        ("Placed by", lambda o: o.placed_by.email if o.placed_by else ""),
        ("Ship to", lambda o: o.ship_to.label if o.ship_to else ""),
        ("Requested ship date", lambda o: o.requested_ship_date),
        ("Cancel date", lambda o: o.cancel_date),
        ("Lines", lambda o: o.line_count),
        ("Pairs ordered", lambda o: o.pairs or 0),
        ("Pairs shipped", lambda o: o.pairs_shipped or 0),
        ("Pairs open", lambda o: o.pairs_open or 0),
        ("Subtotal", lambda o: o.subtotal),
        ("Freight", lambda o: o.freight),
        ("Total", lambda o: o.total),
    ),
    prepare=lambda orders: (
        orders.select_related("account", "placed_by", "ship_to")
        .annotate(
            line_count=Count("lines"),
            pairs=Sum("lines__quantity"),
            pairs_shipped=Sum("lines__shipped"),
            pairs_open=Sum("lines__allocated") + Sum("lines__backordered"),
        )
        .order_by("-placed_at", "-pk")
    ),
)

LINE_COLUMNS = (
    ("Order", lambda line: line.order.number),
    ("Account", lambda line: line.order.account.number),
    ("PO number", lambda line: line.order.po_number),
    ("Placed", lambda line: line.order.placed_at),
    ("SKU", lambda line: line.sku.code),
    ("UPC", lambda line: line.sku.upc),
    ("Style", lambda line: line.sku.style.number),
    ("Name", lambda line: line.sku.style.name),
    ("Colour", lambda line: line.sku.color),
    ("Size", lambda line: line.sku.size),
    ("Width", lambda line: line.sku.get_width_display()),
    ("Unit price", lambda line: line.unit_price),
)


def _lines(lines: QuerySet) -> QuerySet:
    return lines.select_related("order__account", "sku__style").order_by(
        "order__placed_at", "order", "pk"
    )


ORDER_LINES = Export(
    name="order-lines",
    columns=(
        *LINE_COLUMNS,
        ("Ordered", lambda line: line.quantity),
        ("Allocated", lambda line: line.allocated),
        ("Backordered", lambda line: line.backordered),
        ("Shipped", lambda line: line.shipped),
        ("Cancelled", lambda line: line.cancelled),
        ("Amount", lambda line: line.unit_price * line.quantity),
        ("Expected", lambda line: line.expected_date),
        ("Expected because", lambda line: line.expected_basis),
        ("Cancel reason", lambda line: line.cancel_reason),
    ),
    prepare=_lines,
    enrich=_set_expected_dates,
)

BACKORDERS = Export(
    name="backorders",
    columns=(
        *LINE_COLUMNS,
        ("Backordered", lambda line: line.backordered),
        ("Amount", lambda line: line.unit_price * line.backordered),
        ("Expected", lambda line: line.expected_date),
        ("Expected because", lambda line: line.expected_basis),
        ("Held until", lambda line: line.window_end),
    ),
    prepare=lambda lines: _lines(lines.filter(backordered__gt=0)),
    enrich=_set_expected_dates,
)

SHIPMENTS = Export(
    name="shipments",
    columns=(
        ("Shipment", lambda s: s.number),
        ("Account", lambda s: s.order.account.number),
        ("Order", lambda s: s.order.number),
        ("PO number", lambda s: s.order.po_number),
        ("Shipped", lambda s: s.shipped_at),
        ("Carrier", lambda s: s.carrier),
        ("Tracking", lambda s: s.tracking),
        ("Pairs", lambda s: s.pairs or 0),
        ("Invoice", lambda s: s.invoice_number or ""),
    ),
    prepare=lambda shipments: (
        shipments.select_related("order__account")
        .annotate(pairs=Sum("lines__quantity"), invoice_number=F("invoice__number"))
        .order_by("-shipped_at", "-pk")
    ),
)

INVOICES = Export(
    name="invoices",
    columns=(
        ("Invoice", lambda i: i.number),
        ("Account", lambda i: i.account.number),
        ("Order", lambda i: i.order.number),
        ("PO number", lambda i: i.order.po_number),
        ("Shipment", lambda i: i.shipment.number),
        ("Issued", lambda i: i.issued_on),
        ("Due", lambda i: i.due_on),
        ("Terms", lambda i: i.terms_label),
        ("Status", lambda i: i.display_status),
        ("Subtotal", lambda i: i.subtotal),
        ("Freight", lambda i: i.freight),
        ("Total", lambda i: i.total),
        ("Paid", lambda i: i.paid_amount),
        ("Credited", lambda i: i.credited_amount),
        ("Balance", lambda i: i.balance),
    ),
    prepare=lambda invoices: (
        invoices.with_display_status(today=timezone.localdate())
        .with_balance()
        .select_related("account", "order", "shipment")
        .order_by("-issued_on", "-pk")
    ),
)

EXPORTS = {e.name: e for e in (ORDERS, ORDER_LINES, BACKORDERS, SHIPMENTS, INVOICES)}

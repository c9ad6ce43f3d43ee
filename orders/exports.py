"""Spreadsheet exports of the lists a store keeps (orders, order lines, backorders,
shipments, invoices) as CSV or XLSX, for the portal's lists and the API's alike.

One `Export` describes a list's columns and the joins and sums they read; one writer per
format turns any of them into a file. Rows are read with a server-side cursor in chunks,
and the query count does not grow with the rows (an export that needs more than its one
query, e.g. backorders' expected dates, asks once per chunk of CHUNK rows). The file is
kept in the shared cache for its caller and filters while nothing it lists has changed
(export_response). Text that a spreadsheet would run as a formula is written with a
leading quote."""

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain, islice
from operator import itemgetter

import xlsxwriter
from django.db.models import Count, F, QuerySet, Sum
from django.http import HttpResponse
from django.utils import timezone

from inventory.models import Width
from orders.models import OrderSource, OrderStatus
from orders.selectors import line_id_promises
from restapi.figures import figures_read

FORMATS = ("csv", "xlsx")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_CONTENT_TYPE}
KEPT_BYTES_MAX = 8 * 1024 * 1024  # larger files are not held in the shared cache
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
    columns: tuple[tuple[str, Callable[[dict], object]], ...]  # (header, read a row)
    prepare: Callable[[QuerySet], QuerySet]  # values() rows of what the columns read
    enrich: Callable[[list[dict]], None] | None = None  # what a chunk needs, once per chunk

    def rows(self, queryset: QuerySet) -> Iterator[list]:
        """Each row's cells, the header excluded. Prefetches the list came with (an API
        page's) are dropped: the rows are values, not instances."""
        rows = self.prepare(queryset.prefetch_related(None)).iterator(chunk_size=CHUNK)
        readers = [read for _, read in self.columns]
        while chunk := list(islice(rows, CHUNK)):
            if self.enrich:
                self.enrich(chunk)
            for row in chunk:
                yield [cell(read(row)) for read in readers]

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


def xlsx_write(
    file, *, title: str, header: list[str], rows: Iterable[list], in_memory: bool = False
) -> None:
    """A workbook of one sheet written into `file`, row by row (a zip is complete only
    at its end). `rows` hold cells (see cell()). Memory stays flat (temporary files),
    unless `in_memory`: for a short sheet, whose temporary files would cost more than
    the sheet (about 50 ms)."""
    workbook = xlsxwriter.Workbook(
        file, {"in_memory": True} if in_memory else {"constant_memory": True}
    )
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


def export_body(*, export: Export, queryset: QuerySet, file_format: str) -> bytes:
    """The whole file: CSV or a workbook of one sheet."""
    if file_format == "xlsx":
        rows = export.rows(queryset)
        first = list(islice(rows, CHUNK))
        file = io.BytesIO()
        xlsx_write(
            file,
            title=export.name.replace("-", " ").capitalize(),
            header=export.header,
            rows=chain(first, rows),
            in_memory=len(first) < CHUNK,
        )
        return file.getvalue()
    return "".join(csv_lines(export=export, queryset=queryset)).encode()


def export_response(
    *, export: Export, queryset: QuerySet, file_format: str, kept_as: str, label: str = ""
):
    """The download, kept whole under `kept_as` (which must name the caller and every
    filter) while nothing it lists can have changed (settings.FIGURES_READ: the data and
    access versions and the day), so a download repeated before any write is a cache
    read. A file over KEPT_BYTES_MAX is written again on each download."""
    body = figures_read()(
        f"export:{export.name}:{file_format}:{kept_as}",
        lambda: export_body(export=export, queryset=queryset, file_format=file_format),
        keep=lambda body: len(body) <= KEPT_BYTES_MAX,
    )
    stem = "-".join(filter(None, [export.name, label, f"{timezone.localdate():%Y%m%d}"]))
    response = HttpResponse(body, content_type=CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="{stem}.{file_format}"'
    return response


# --- The lists ---------------------------------------------------------------------------
# Each list is read as values() rows (dicts of what its columns show), not model
# instances: a backorders file of 120 lines took 86 ms to build its lines with their
# orders, accounts, SKUs and styles, and 18 ms to read the same columns as values.

STATUS_LABELS = dict(OrderStatus.choices)
SOURCE_LABELS = dict(OrderSource.choices)
WIDTH_LABELS = dict(Width.choices)


def _set_expected_dates(lines: list[dict]) -> None:
    """Each backordered line's expected date and what it rests on, from the ETA table's
    one selector."""
    promises = line_id_promises(line_ids=[line["id"] for line in lines if line["backordered"]])
    for line in lines:
        promise = promises.get(line["id"])
        line["expected_date"] = promise.date if promise else None
        line["expected_basis"] = promise.basis if promise else ""


ORDERS = Export(
    name="orders",
    columns=(
        ("Order", itemgetter("number")),
        ("Account", itemgetter("account_number")),
        ("PO number", itemgetter("po_number")),
        ("Status", lambda o: STATUS_LABELS[o["status"]]),
        ("Source", lambda o: SOURCE_LABELS[o["source"]]),
        ("Placed", itemgetter("placed_at")),
        ("Placed by", itemgetter("placed_by_email")),
        ("Ship to", itemgetter("ship_to_label")),
        ("Requested ship date", itemgetter("requested_ship_date")),
        ("Cancel date", itemgetter("cancel_date")),
        ("Lines", itemgetter("line_count")),
        ("Pairs ordered", lambda o: o["pairs"] or 0),
        ("Pairs shipped", lambda o: o["pairs_shipped"] or 0),
        ("Pairs open", lambda o: o["pairs_open"] or 0),
        ("Subtotal", itemgetter("subtotal")),
        ("Freight", itemgetter("freight")),
        ("Total", itemgetter("total")),
    ),
    prepare=lambda orders: (
        orders.annotate(
            line_count=Count("lines"),
            pairs=Sum("lines__quantity"),
            pairs_shipped=Sum("lines__shipped"),
            pairs_open=Sum("lines__allocated") + Sum("lines__backordered"),
        )
        .order_by("-placed_at", "-pk")
        .values(
            "number",
            "po_number",
            "status",
            "source",
            "placed_at",
            "requested_ship_date",
            "cancel_date",
            "line_count",
            "pairs",
            "pairs_shipped",
            "pairs_open",
            "subtotal",
            "freight",
            "total",
            account_number=F("account__number"),
            placed_by_email=F("placed_by__email"),
            ship_to_label=F("ship_to__label"),
        )
    ),
)

LINE_COLUMNS = (
    ("Order", itemgetter("order_number")),
    ("Account", itemgetter("account_number")),
    ("PO number", itemgetter("po_number")),
    ("Placed", itemgetter("placed_at")),
    ("SKU", itemgetter("sku_code")),
    ("UPC", itemgetter("upc")),
    ("Style", itemgetter("style_number")),
    ("Name", itemgetter("style_name")),
    ("Colour", itemgetter("color")),
    ("Size", itemgetter("size")),
    ("Width", lambda line: WIDTH_LABELS[line["width"]]),
    ("Unit price", itemgetter("unit_price")),
)


def _lines(lines: QuerySet) -> QuerySet:
    return lines.order_by("order__placed_at", "order", "pk").values(
        "id",
        "unit_price",
        "quantity",
        "allocated",
        "backordered",
        "shipped",
        "cancelled",
        "cancel_reason",
        "window_end",
        order_number=F("order__number"),
        account_number=F("order__account__number"),
        po_number=F("order__po_number"),
        placed_at=F("order__placed_at"),
        sku_code=F("sku__code"),
        upc=F("sku__upc"),
        style_number=F("sku__style__number"),
        style_name=F("sku__style__name"),
        color=F("sku__color"),
        size=F("sku__size"),
        width=F("sku__width"),
    )


ORDER_LINES = Export(
    name="order-lines",
    columns=(
        *LINE_COLUMNS,
        ("Ordered", itemgetter("quantity")),
        ("Allocated", itemgetter("allocated")),
        ("Backordered", itemgetter("backordered")),
        ("Shipped", itemgetter("shipped")),
        ("Cancelled", itemgetter("cancelled")),
        ("Amount", lambda line: line["unit_price"] * line["quantity"]),
        ("Expected", itemgetter("expected_date")),
        ("Expected because", itemgetter("expected_basis")),
        ("Cancel reason", itemgetter("cancel_reason")),
    ),
    prepare=_lines,
    enrich=_set_expected_dates,
)

BACKORDERS = Export(
    name="backorders",
    columns=(
        *LINE_COLUMNS,
        ("Backordered", itemgetter("backordered")),
        ("Amount", lambda line: line["unit_price"] * line["backordered"]),
        ("Expected", itemgetter("expected_date")),
        ("Expected because", itemgetter("expected_basis")),
        ("Held until", itemgetter("window_end")),
    ),
    prepare=lambda lines: _lines(lines.filter(backordered__gt=0)),
    enrich=_set_expected_dates,
)

SHIPMENTS = Export(
    name="shipments",
    columns=(
        ("Shipment", itemgetter("number")),
        ("Account", itemgetter("account_number")),
        ("Order", itemgetter("order_number")),
        ("PO number", itemgetter("po_number")),
        ("Shipped", itemgetter("shipped_at")),
        ("Carrier", itemgetter("carrier")),
        ("Tracking", itemgetter("tracking")),
        ("Pairs", lambda s: s["pairs"] or 0),
        ("Invoice", itemgetter("invoice_number")),
    ),
    prepare=lambda shipments: (
        shipments.annotate(pairs=Sum("lines__quantity"))
        .order_by("-shipped_at", "-pk")
        .values(
            "number",
            "shipped_at",
            "carrier",
            "tracking",
            "pairs",
            account_number=F("order__account__number"),
            order_number=F("order__number"),
            po_number=F("order__po_number"),
            invoice_number=F("invoice__number"),
        )
    ),
)

INVOICES = Export(
    name="invoices",
    columns=(
        ("Invoice", itemgetter("number")),
        ("Account", itemgetter("account_number")),
        ("Order", itemgetter("order_number")),
        ("PO number", itemgetter("po_number")),
        ("Shipment", itemgetter("shipment_number")),
        ("Issued", itemgetter("issued_on")),
        ("Due", itemgetter("due_on")),
        ("Terms", itemgetter("terms_label")),
        ("Status", itemgetter("display_status")),
        ("Subtotal", itemgetter("subtotal")),
        ("Freight", itemgetter("freight")),
        ("Total", itemgetter("total")),
        ("Paid", itemgetter("paid_amount")),
        ("Credited", itemgetter("credited_amount")),
        ("Balance", itemgetter("balance")),
    ),
    prepare=lambda invoices: (
        invoices.with_display_status(today=timezone.localdate())
        .with_balance()
        .order_by("-issued_on", "-pk")
        .values(
            "number",
            "issued_on",
            "due_on",
            "terms_label",
            "display_status",
            "subtotal",
            "freight",
            "total",
            "paid_amount",
            "credited_amount",
            "balance",
            account_number=F("account__number"),
            order_number=F("order__number"),
            po_number=F("order__po_number"),
            shipment_number=F("shipment__number"),
        )
    ),
)

EXPORTS = {e.name: e for e in (ORDERS, ORDER_LINES, BACKORDERS, SHIPMENTS, INVOICES)}

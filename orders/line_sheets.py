"""Line sheets: the catalogue (one category, or all of it) as an account buys it, for a
buyer's desk or a store meeting: each style in each colour with its picture, the
account's wholesale price, MSRP, and every size with pairs available now and the next
ETA (from the ETA table's one selector).

The PDF (WeasyPrint) is rendered by a worker (orders.tasks.line_sheet_render_task) the
first time a sheet with these contents is asked for, and stored under a fingerprint of
what it shows; the same contents are served again, and changed ones (a price, a count,
an ETA) get a new file. Pictures are read from storage (never fetched over the network).
The XLSX, one row per SKU, is written on the request, in constant memory."""

import datetime as dt
import hashlib
import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.text import slugify
from weasyprint.urls import URLFetcher, URLFetcherResponse

from inventory.models import SKU, StyleImage
from inventory.pricing import CENT, PriceRange
from inventory.selectors import ats_by_sku, next_eta_by_sku
from orders.documents import (
    LINE_SHEETS_DIR,
    base_context,
    pdf_from_template,
    queue_once,
    store_once,
)
from orders.exports import cell, xlsx_response
from orders.models import Account
from orders.pricing import account_price_list, account_prices

MAX_SKUS = 5000  # a sheet past this is cut short, and says so: narrow it by category
RENDER_PENDING_SECONDS = 120


class LineSheetCategoryUnknown(LookupError):
    """No active style is in the category asked for."""


@dataclass(frozen=True)
class SizeCell:
    size: str
    sku: str
    upc: str
    price: Decimal
    msrp: Decimal
    ats: int
    next_eta: dt.date | None


@dataclass(frozen=True)
class SheetRow:
    """One style in one colour and width."""

    style: str
    name: str
    category: str
    color: str
    width: str
    picture: str  # the thumbnail's name in storage, "" for none
    alt: str
    price: PriceRange
    msrp: PriceRange
    sizes: list[SizeCell]


@dataclass(frozen=True)
class LineSheet:
    account: Account
    category: str  # "" for the whole catalogue
    price_list: str  # the list's name, "" for the base list
    as_of: dt.date
    rows: list[SheetRow]
    cut_short: bool

    @property
    def title(self) -> str:
        return f"Line sheet · {self.category or 'All categories'}"

    @property
    def file_stem(self) -> str:
        scope = slugify(self.category) or "all"
        return f"line-sheet-{self.account.number}-{scope}-{self.as_of:%Y%m%d}"


def line_sheet_for(*, account: Account, category: str = "") -> LineSheet:
    """The sheet as of now, in a fixed number of queries whatever its size. Raises
    LineSheetCategoryUnknown for a category with no active style."""
    skus = SKU.objects.filter(active=True).select_related("style")
    if category:
        skus = skus.filter(style__category=category)
    skus = list(skus.order_by("style__number", "color", "width", "size")[: MAX_SKUS + 1])
    cut_short = len(skus) > MAX_SKUS
    skus = skus[:MAX_SKUS]
    if category and not skus:
        raise LineSheetCategoryUnknown(category)
    ids = [sku.pk for sku in skus]
    prices = account_prices(account=account, skus=skus)
    ats = ats_by_sku(sku_ids=ids)
    etas = next_eta_by_sku(sku_ids=ids)
    pictures = _thumbnails(style_ids={sku.style_id for sku in skus})
    groups = defaultdict(list)
    for sku in skus:
        groups[(sku.style_id, sku.color, sku.width)].append(sku)
    rows = []
    for (style_id, color, _), members in groups.items():
        style = members[0].style
        picture, alt = pictures.get((style_id, color)) or pictures.get((style_id, ""), ("", ""))
        cells = [
            SizeCell(
                sku.size_label,
                sku.code,
                sku.upc,
                prices[sku.pk].quantize(CENT),
                sku.msrp,
                ats[sku.pk],
                etas[sku.pk],
            )
            for sku in members
        ]
        rows.append(
            SheetRow(
                style=style.number,
                name=style.name,
                category=style.category,
                color=color,
                width=members[0].get_width_display(),
                picture=picture,
                alt=alt or f"{style.name} in {color}",
                price=PriceRange.of(cell.price for cell in cells),
                msrp=PriceRange.of(cell.msrp for cell in cells),
                sizes=cells,
            )
        )
    price_list = account_price_list(account=account)
    return LineSheet(
        account=account,
        category=category,
        price_list=price_list.name if price_list else "",
        as_of=timezone.localdate(),
        rows=rows,
        cut_short=cut_short,
    )


def _thumbnails(*, style_ids) -> dict[tuple[int, str], tuple[str, str]]:
    """The first thumbnail (storage name, alt text) of each style's colours, "" for the
    pictures shown for every colour. One query."""
    first = {}
    rows = (
        StyleImage.objects.filter(style_id__in=style_ids)
        .exclude(thumb="")
        .order_by("style_id", "color", "position", "pk")
        .values_list("style_id", "color", "thumb", "alt_text")
    )
    for style_id, color, thumb, alt in rows:
        first.setdefault((style_id, color), (thumb, alt))
    return first


def line_sheet_fingerprint(sheet: LineSheet) -> str:
    """sha256 of everything the PDF shows but the time it was made."""
    shown = {
        "account": [sheet.account.pk, sheet.account.number, sheet.account.name],
        "category": sheet.category,
        "price_list": sheet.price_list,
        "as_of": sheet.as_of,
        "rows": [asdict(row) for row in sheet.rows],
        "cut_short": sheet.cut_short,
    }
    return hashlib.sha256(json.dumps(shown, default=str).encode()).hexdigest()


def line_sheet_file_name(*, sheet: LineSheet, fingerprint: str) -> str:
    return f"{LINE_SHEETS_DIR}/{sheet.account.number}/{sheet.file_stem}-{fingerprint[:16]}.pdf"


class StorageFetcher(URLFetcher):
    """WeasyPrint's resource fetcher for line sheets: `storage:<name>` is read from
    Django's storage; nothing else is fetched (no network, no other files)."""

    def fetch(self, url, headers=None):
        if not url.startswith("storage:"):
            raise ValueError(f"Line sheets load pictures from storage only, not {url[:40]!r}.")
        with default_storage.open(url.removeprefix("storage:"), "rb") as file:
            data = file.read()
        return URLFetcherResponse(url, body=data, headers={"Content-Type": "image/jpeg"})


def line_sheet_pdf(*, sheet: LineSheet) -> bytes:
    context = base_context(sheet=sheet, account=sheet.account, title=sheet.title)
    return pdf_from_template("pdf/line_sheet.html", context, url_fetcher=StorageFetcher())


def line_sheet_render_queue(*, account_id: int, category: str, fingerprint: str) -> bool:
    """Queue the render of a sheet not stored yet, once per fingerprint for a while
    (a buyer's page polling shares one render)."""
    from orders.tasks import line_sheet_render_task

    return queue_once(
        f"line-sheet-render:{fingerprint}",
        seconds=RENDER_PENDING_SECONDS,
        task=line_sheet_render_task,
        args=(account_id, category, fingerprint),
    )


def line_sheet_render(*, account_id: int, category: str, fingerprint: str) -> str:
    """Render a sheet and store it under its file name, once. Returns the stored name, or
    "" when there is nothing to do: the account is gone, the sheet changed since it was
    asked for (the next request asks for the new one), or it is stored already."""
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        return ""
    try:
        sheet = line_sheet_for(account=account, category=category)
    except LineSheetCategoryUnknown:
        return ""
    if line_sheet_fingerprint(sheet) != fingerprint:
        return ""
    name = line_sheet_file_name(sheet=sheet, fingerprint=fingerprint)
    return store_once(name, lambda: line_sheet_pdf(sheet=sheet))


XLSX_HEADER = [
    "Style",
    "Name",
    "Category",
    "Colour",
    "Width",
    "Size",
    "SKU",
    "UPC",
    "Your price",
    "MSRP",
    "Available now",
    "Next ETA",
]


def line_sheet_xlsx_response(*, sheet: LineSheet):
    """The sheet as a workbook, one row per SKU (no pictures)."""
    rows = (
        [
            cell(value)
            for value in (
                row.style,
                row.name,
                row.category,
                row.color,
                row.width,
                size.size,
                size.sku,
                size.upc,
                size.price,
                size.msrp,
                size.ats,
                size.next_eta,
            )
        ]
        for row in sheet.rows
        for size in row.sizes
    )
    return xlsx_response(
        title="Line sheet", header=XLSX_HEADER, rows=rows, filename=f"{sheet.file_stem}.xlsx"
    )

"""Line sheets: the catalogue (one season and/or one category, or all of it) as an account
buys it, for a buyer's desk or a store meeting: each style in each colour with its
picture, the account's wholesale price, MSRP, and every size with pairs available now and
the next ETA (from the ETA table's one selector).

The PDF (WeasyPrint) and the XLSX (one row per SKU; a whole catalogue's takes longer than
a request may) are rendered by a worker (orders.tasks.line_sheet_render_task) when asked
for, and stored; a sheet made in the last FRESH minutes is served as it is (it says when
it was made), so counts that move while a large sheet renders never keep a buyer waiting
for the next one. Pictures are read from storage (never fetched over the network)."""

import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
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
from orders.exports import XLSX_CONTENT_TYPE, cell, xlsx_write
from orders.models import Account
from orders.pricing import account_price_list, account_prices

# A sheet past this is cut short, and says so (narrow it by category): the demo's whole
# catalogue, 2,900 SKUs in 219 colour blocks, renders in about a minute on a busy core.
MAX_SKUS = 3000
FRESH = dt.timedelta(minutes=15)
# A render queued for a sheet is not queued again while it may still run (the task's
# hard limit), nor once it is stored and fresh.
RENDER_PENDING_SECONDS = 330
# What a sheet is stored as: its files' suffix and content type.
FORMATS = {"pdf": "application/pdf", "xlsx": XLSX_CONTENT_TYPE}


class LineSheetCategoryUnknown(LookupError):
    """No active style is in the category (and season) asked for."""


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
    category: str  # "" for every category
    season: str  # the season's code, "" for every season
    season_name: str
    price_list: str  # the list's name, "" for the base list
    as_of: dt.date
    rows: list[SheetRow]
    cut_short: bool

    @property
    def title(self) -> str:
        return f"Line sheet · {self.scope}"

    @property
    def scope(self) -> str:
        return line_sheet_scope(category=self.category, season=self.season_name or self.season)

    @property
    def file_stem(self) -> str:
        return line_sheet_stem(
            account=self.account, category=self.category, season=self.season, on=self.as_of
        )


def line_sheet_scope(*, category: str = "", season: str = "") -> str:
    """What a sheet covers, in words: "SS27 · Boots", "All categories"."""
    return " · ".join(part for part in (season, category) if part) or "All categories"


def line_sheet_stem(*, account: Account, category: str, on: dt.date, season: str = "") -> str:
    """What a sheet's files are called, before the time each was made."""
    scope = f"{slugify(season)}-" if season else ""
    return f"line-sheet-{account.number}-{scope}{slugify(category) or 'all'}-{on:%Y%m%d}"


def _active_skus(*, category: str, season: str):
    skus = SKU.objects.filter(active=True)
    if category:
        skus = skus.filter(style__category=category)
    if season:
        skus = skus.filter(style__season_id=season)
    return skus


def line_sheet_category_check(*, category: str, season: str = "") -> None:
    """Raises LineSheetCategoryUnknown unless an active style is in `category` and
    `season` ("": all)."""
    if (category or season) and not _active_skus(category=category, season=season).exists():
        raise LineSheetCategoryUnknown(category or season)


def line_sheet_for(*, account: Account, category: str = "", season: str = "") -> LineSheet:
    """The sheet as of now, in a fixed number of queries whatever its size. Raises
    LineSheetCategoryUnknown for a category or season with no active style."""
    skus = _active_skus(category=category, season=season).select_related("style__season")
    skus = list(skus.order_by("style__number", "color", "width", "size")[: MAX_SKUS + 1])
    cut_short = len(skus) > MAX_SKUS
    skus = skus[:MAX_SKUS]
    if (category or season) and not skus:
        raise LineSheetCategoryUnknown(category or season)
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
        season=season,
        season_name=skus[0].style.season.name if season else "",
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


def line_sheet_stored(
    *, account: Account, category: str, season: str = "", file_format: str = "pdf"
) -> str | None:
    """The newest stored file of this sheet in `file_format` made in the last FRESH
    minutes, if any."""
    directory = f"{LINE_SHEETS_DIR}/{account.number}"
    if not default_storage.exists(directory):
        return None
    stem = line_sheet_stem(
        account=account, category=category, season=season, on=timezone.localdate()
    )
    _, names = default_storage.listdir(directory)
    since = timezone.now() - FRESH
    made = {
        name: default_storage.get_modified_time(f"{directory}/{name}")
        for name in names
        if name.startswith(f"{stem}-") and name.endswith(f".{file_format}")
    }
    fresh = [name for name, when in made.items() if when >= since]
    return f"{directory}/{max(fresh, key=made.__getitem__)}" if fresh else None


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


def _pending_key(*, account_id: int, category: str, season: str, file_format: str) -> str:
    scope = f"{slugify(season)}:{slugify(category) or 'all'}"
    return f"line-sheet-render:{account_id}:{scope}:{file_format}"


def line_sheet_render_queue(
    *, account_id: int, category: str, season: str = "", file_format: str = "pdf"
) -> bool:
    """Queue the render of an account's sheet in `file_format`, once while one may be
    running (a buyer's page polling shares one render)."""
    from orders.tasks import line_sheet_render_task

    scope = {"account_id": account_id, "category": category, "season": season}
    return queue_once(
        _pending_key(**scope, file_format=file_format),
        seconds=RENDER_PENDING_SECONDS,
        task=line_sheet_render_task,
        args=(account_id, category, season, file_format),
    )


def line_sheet_stored_or_queued(
    *, account: Account, category: str, season: str = "", file_format: str = "pdf"
) -> str | None:
    """A download asked for: the fresh stored file's name, or None with its render
    queued. Raises LineSheetCategoryUnknown for a category or season with no active style."""
    scope = {"category": category, "season": season}
    stored = line_sheet_stored(account=account, **scope, file_format=file_format)
    if stored is None:
        line_sheet_category_check(**scope)
        line_sheet_render_queue(account_id=account.pk, **scope, file_format=file_format)
    return stored


def line_sheet_render(
    *, account_id: int, category: str, season: str = "", file_format: str = "pdf"
) -> str:
    """Render the sheet as it is now in `file_format` and store it. Returns the stored
    name, or "" when there is nothing to do: the account, the category or the season is
    gone, or a fresh sheet is stored already (a second delivery of the task)."""
    scope = {"category": category, "season": season}
    account = Account.objects.filter(pk=account_id).first()
    if account is None or line_sheet_stored(account=account, **scope, file_format=file_format):
        return ""
    try:
        sheet = line_sheet_for(account=account, **scope)
    except LineSheetCategoryUnknown:
        return ""
    render = {"pdf": line_sheet_pdf, "xlsx": line_sheet_xlsx}[file_format]
    made = timezone.localtime()
    name = f"{LINE_SHEETS_DIR}/{account.number}/{sheet.file_stem}-{made:%H%M%S%f}.{file_format}"
    stored = store_once(name, lambda: render(sheet=sheet))
    # Stored: a later request past FRESH may queue the next one at once.
    cache.delete(_pending_key(account_id=account_id, **scope, file_format=file_format))
    return stored


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


def line_sheet_xlsx(*, sheet: LineSheet) -> bytes:
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
    file = io.BytesIO()
    xlsx_write(file, title="Line sheet", header=XLSX_HEADER, rows=rows)
    return file.getvalue()

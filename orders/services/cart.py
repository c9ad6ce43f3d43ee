"""The server-side cart, one per user and account. Every way in (size grid, core and
quick-ship lists, reorder, paste, CSV upload) ends in `cart_lines_add` or
`cart_line_set`; `cart_submit` hands the cart to `order_place`."""

import codecs
import csv
import datetime as dt
import re
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Least

from inventory.models import SKU
from inventory.parsing import sku_code_normalize
from orders.exceptions import OrderInputError, OrderNotAllowed
from orders.models import Account, BackorderPolicy, Cart, CartLine, Order, OrderSource
from orders.selectors import user_can_order
from orders.services.ordering import (
    MAX_LINE_QUANTITY,
    MAX_LINES,
    LineRequest,
    PlacementResult,
    order_place,
    sku_line_problem,
)

MAX_PASTE_CHARS = 200_000
MAX_UPLOAD_BYTES = 1_000_000
HEADER_WORDS = {"sku", "upc", "code", "item", "style", "qty", "quantity", "pairs", "ean", "gtin"}
QUANTITY_PATTERN = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class ParsedLine:
    line_number: int
    sku: SKU
    quantity: int


@dataclass(frozen=True)
class ParseError:
    line_number: int
    text: str
    reason: str


@dataclass(frozen=True)
class PasteResult:
    lines: list[ParsedLine] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)


def _cart_for(*, user, account: Account) -> Cart:
    if not user_can_order(user=user, account=account):
        raise OrderNotAllowed("You may not order for this account.")
    cart, _ = Cart.objects.get_or_create(user=user, account=account)
    return cart


def _quantity_or_error(raw) -> tuple[int | None, str]:
    text = str(raw).strip().replace(",", "") if raw is not None else ""
    if not QUANTITY_PATTERN.match(text):
        return None, "The quantity must be a whole number of pairs."
    if len(text) > 12:
        return None, f"The quantity must be at most {MAX_LINE_QUANTITY}."
    quantity = int(text)
    if quantity <= 0:
        return None, "The quantity must be at least 1."
    if quantity > MAX_LINE_QUANTITY:
        return None, f"The quantity must be at most {MAX_LINE_QUANTITY}."
    return quantity, ""


@transaction.atomic(durable=True)
def cart_line_set(*, user, account: Account, sku: SKU, quantity) -> CartLine | None:
    """Set a SKU's quantity in the cart (a grid cell, the cart page); 0 removes it."""
    cart = _cart_for(user=user, account=account)
    text = "" if quantity is None else str(quantity).strip()
    if text in ("", "0"):
        CartLine.objects.filter(cart=cart, sku=sku).delete()
        cart.save(update_fields=["updated_at"])
        return None
    value, error = _quantity_or_error(text)
    if error:
        raise OrderInputError({"quantity": [error]})
    if not sku.active:
        raise OrderInputError({"sku": [f"SKU {sku.code} is no longer sold."]})
    line, _ = CartLine.objects.update_or_create(cart=cart, sku=sku, defaults={"quantity": value})
    cart.save(update_fields=["updated_at"])
    return line


@transaction.atomic(durable=True)
def cart_lines_set(*, user, account: Account, quantities: dict[int, object]) -> int:
    """Set several cells at once (a size grid): {sku id: quantity}; blank or 0 removes.
    Every cell is checked first; errors are keyed by SKU code and nothing changes.
    Returns how many pairs the touched cells now hold."""
    cart = _cart_for(user=user, account=account)
    skus = {sku.pk: sku for sku in SKU.objects.filter(pk__in=list(quantities))}
    errors, wanted = {}, {}
    for sku_id, raw in quantities.items():
        sku = skus.get(sku_id)
        if sku is None:
            errors[f"sku:{sku_id}"] = ["Unknown SKU."]
            continue
        text = "" if raw is None else str(raw).strip()
        if text in ("", "0"):
            wanted[sku_id] = 0
            continue
        value, error = _quantity_or_error(text)
        if error:
            errors[sku.code] = [error]
        elif not sku.active:
            errors[sku.code] = [f"SKU {sku.code} is no longer sold."]
        else:
            wanted[sku_id] = value
    if errors:
        raise OrderInputError(errors)
    removed = [sku_id for sku_id, value in wanted.items() if value == 0]
    CartLine.objects.filter(cart=cart, sku_id__in=removed).delete()
    kept = [CartLine(cart=cart, sku_id=sku_id, quantity=q) for sku_id, q in wanted.items() if q]
    CartLine.objects.bulk_create(
        kept, update_conflicts=True, unique_fields=["cart", "sku"], update_fields=["quantity"]
    )
    cart.save(update_fields=["updated_at"])
    return sum(line.quantity for line in kept)


@transaction.atomic(savepoint=False)
def _line_add(*, cart: Cart, sku_id: int, quantity: int) -> None:
    """Add pairs to a cart line with one conditional UPDATE; create it if missing."""
    updated = CartLine.objects.filter(cart=cart, sku_id=sku_id).update(
        quantity=Least(F("quantity") + quantity, MAX_LINE_QUANTITY)
    )
    if updated:
        return
    try:
        with transaction.atomic():
            CartLine.objects.create(cart=cart, sku_id=sku_id, quantity=quantity)
    except IntegrityError:
        # Another request created the line a moment ago: add to it instead.
        CartLine.objects.filter(cart=cart, sku_id=sku_id).update(
            quantity=Least(F("quantity") + quantity, MAX_LINE_QUANTITY)
        )


@transaction.atomic(durable=True)
def cart_lines_add(
    *, user, account: Account, lines: list[LineRequest], from_upload: bool = False
) -> int:
    """Add lines to the cart. Lines for the same SKU are merged (quantities summed) with
    each other and with what the cart already holds. Every line is checked first; on any
    bad line nothing is added and OrderInputError names each one ("lines[3].sku").
    Lines from a paste or upload mark the cart, so its order's source says so.
    Returns the number of distinct SKUs touched."""
    cart = _cart_for(user=user, account=account)
    if not lines:
        raise OrderInputError({"lines": ["Nothing to add."]})
    if len(lines) > MAX_LINES:
        raise OrderInputError({"lines": [f"At most {MAX_LINES} lines at a time."]})
    codes = [sku_code_normalize(line.sku) for line in lines]
    found = {sku.code.upper(): sku for sku in SKU.objects.filter(code__in=codes)}
    errors, merged = {}, {}
    for index, (line, code) in enumerate(zip(lines, codes, strict=True)):
        sku = found.get(code)
        if problem := sku_line_problem(code=code, sku=sku):
            errors[f"lines[{index}].sku"] = [problem]
        quantity, error = _quantity_or_error(line.quantity)
        if error:
            errors[f"lines[{index}].quantity"] = [error]
        if sku is not None and quantity is not None:
            merged[sku.pk] = merged.get(sku.pk, 0) + quantity
    if errors:
        raise OrderInputError(errors)
    for sku_id in sorted(merged):
        _line_add(cart=cart, sku_id=sku_id, quantity=min(merged[sku_id], MAX_LINE_QUANTITY))
    cart.from_upload = cart.from_upload or from_upload
    cart.save(update_fields=["from_upload", "updated_at"])
    return len(merged)


@transaction.atomic(durable=True)
def cart_clear(*, user, account: Account) -> int:
    cart = _cart_for(user=user, account=account)
    deleted, _ = CartLine.objects.filter(cart=cart).delete()
    Cart.objects.filter(pk=cart.pk).update(from_upload=False)
    return deleted


# --- Paste and upload ------------------------------------------------------------------


def _split_row(row: str) -> list[str]:
    """`SKU qty`, `SKU,qty`, `SKU;qty` or `SKU<TAB>qty`; quoted CSV values allowed."""
    for delimiter in ("\t", ";", ","):
        if delimiter in row:
            cells = next(csv.reader([row], delimiter=delimiter), [])
            return [cell.strip() for cell in cells if cell.strip()]
    return row.split()


def _is_header(cells: list[str]) -> bool:
    return bool(cells) and all(cell.strip().lower() in HEADER_WORDS for cell in cells)


def cart_paste_parse(*, text: str) -> PasteResult:
    """Parse pasted or uploaded lines into (good lines, errors by line number). A header
    row (e.g. "sku,qty") is skipped; blank lines are ignored; a code may be a SKU or a
    UPC. Nothing is written: the good lines go to `cart_lines_add` after review."""
    if len(text) > MAX_PASTE_CHARS:
        return PasteResult(
            [], [ParseError(0, "", f"The text is over {MAX_PASTE_CHARS:,} characters.")]
        )
    text = text.lstrip("\ufeff")
    rows = []
    for line_number, raw in enumerate(text.splitlines(), start=1):
        cells = _split_row(raw.strip())
        if not cells or (not rows and _is_header(cells)):
            continue
        rows.append((line_number, raw.strip(), cells))
    if len(rows) > MAX_LINES:
        return PasteResult(
            [], [ParseError(0, "", f"At most {MAX_LINES} lines at a time; found {len(rows)}.")]
        )
    codes = {sku_code_normalize(cells[0]) for _, raw, cells in rows if "\x00" not in raw}
    skus = SKU.objects.filter(Q(code__in=codes) | Q(upc__in=codes)).select_related("style")
    by_code = {}
    for sku in skus:
        by_code[sku.upc] = sku
        by_code[sku.code.upper()] = sku
    good, errors = [], []
    for line_number, raw, cells in rows:
        if "\x00" in raw:
            errors.append(ParseError(line_number, raw.replace("\x00", ""), "Unreadable text."))
            continue
        if len(cells) != 2:
            errors.append(
                ParseError(line_number, raw, "Expected a SKU or UPC and a quantity, e.g. ABC-1 6.")
            )
            continue
        code = sku_code_normalize(cells[0])
        sku = by_code.get(code)
        quantity, error = _quantity_or_error(cells[1])
        if sku is None:
            errors.append(ParseError(line_number, raw, f"Unknown SKU or UPC {cells[0]!r}."))
        elif not sku.active:
            errors.append(ParseError(line_number, raw, f"SKU {sku.code} is no longer sold."))
        elif error:
            errors.append(ParseError(line_number, raw, error))
        else:
            good.append(ParsedLine(line_number, sku, quantity))
    return PasteResult(good, errors)


def cart_upload_parse(*, data: bytes) -> PasteResult:
    """A CSV file (UTF-8 with or without BOM, or Latin-1), commas or semicolons."""
    if len(data) > MAX_UPLOAD_BYTES:
        return PasteResult(
            [], [ParseError(0, "", f"The file is over {MAX_UPLOAD_BYTES // 1000:,} KB.")]
        )
    text = _csv_text(data)
    if text is None or "\x00" in text:
        return PasteResult([], [ParseError(0, "", "This is not a text (CSV) file.")])
    return cart_paste_parse(text=text)


def _csv_text(data: bytes) -> str | None:
    """Decode an uploaded CSV: UTF-16 by its byte-order mark (as Excel's "Unicode text"
    saves), else UTF-8 (BOM or not), else Windows-1252 (Excel on Windows), else
    Latin-1. None for something that is not text."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


# --- Submit --------------------------------------------------------------------------


def cart_submit(
    *,
    user,
    account: Account,
    po_number: str = "",
    ship_to=None,
    requested_ship_date: dt.date | None = None,
    cancel_date: dt.date | None = None,
    backorder_policy: str = BackorderPolicy.ALLOW,
    source: str | None = None,
    idempotency_key: str | None = None,
) -> PlacementResult:
    """Place the cart as an order (via order_place: one transaction), then empty the cart
    of what was ordered. A repeated submit with the same key returns the same order.
    The source is "rep" when a rep orders for an assigned account, "upload" when the
    cart's lines came from a paste or a file."""
    cart = Cart.objects.filter(user=user, account=account).first()
    cart_lines = (
        list(cart.lines.select_related("sku").order_by("sku__code")) if cart is not None else []
    )
    if not cart_lines and idempotency_key:
        # A second click after the first one placed the order and emptied the cart.
        existing = Order.objects.filter(account=account, idempotency_key=idempotency_key).first()
        if existing is not None:
            return PlacementResult(existing, created=False)
    if source is None:
        if user.is_sales_rep and account.rep_id == user.pk:
            source = OrderSource.REP
        elif cart is not None and cart.from_upload:
            source = OrderSource.UPLOAD
        else:
            source = OrderSource.PORTAL
    result = order_place(
        account=account,
        user=user,
        lines=[LineRequest(line.sku.code, line.quantity) for line in cart_lines],
        po_number=po_number,
        ship_to=ship_to,
        requested_ship_date=requested_ship_date,
        cancel_date=cancel_date,
        backorder_policy=backorder_policy,
        source=source,
        idempotency_key=idempotency_key,
    )
    if cart is not None:
        _cart_lines_remove_ordered(cart=cart, order=result.order)
    return result


@transaction.atomic(durable=True)
def _cart_lines_remove_ordered(*, cart: Cart, order) -> None:
    """Remove the cart lines the order took (same SKU and quantity). A line changed in
    another tab meanwhile stays in the cart."""
    ordered = list(order.lines.values_list("sku_id", "quantity"))
    condition = Q(pk__in=[])
    for sku_id, quantity in ordered:
        condition |= Q(sku_id=sku_id, quantity=quantity)
    CartLine.objects.filter(condition, cart=cart).delete()
    Cart.objects.filter(pk=cart.pk, lines__isnull=True).update(from_upload=False)

"""Reading and validating the CSV feeds (catalogue, stock counts, inbound runs).

One core for the three feeds: `read_csv` (UTF-8 with or without a BOM, "," ";" or tab
delimited), `Column` parsers and `validate_rows`, which checks every row and reports every
problem as a RowError(row, column, message). Each feed then adds its cross-row and
database checks and returns a plan the matching service writes in one transaction.
Row numbers are the file's line numbers as a spreadsheet shows them (the header is row 1).
"""

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from inventory.models import (
    SKU,
    InboundRun,
    InboundStatus,
    Replenishment,
    Season,
    StockLevel,
    Style,
    Warehouse,
    Width,
)
from inventory.parsing import natural_number
from inventory.services import (
    CatalogRow,
    InboundLineInput,
    InboundRunInput,
    StockCount,
    inbound_run_check,
)

DELIMITERS = ",;\t"
MAX_ROWS = 200_000
Progress = Callable[[int], object] | None


@dataclass(frozen=True, order=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self):
        return f"row {self.row}, column {self.column}: {self.message}"


class CsvFileError(Exception):
    """The file as a whole cannot be read (encoding, no header, missing columns)."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(str(error) for error in self.errors))


# --- Value parsers: each returns the value or raises ValueError(message) -------------------


def text(max_length: int, upper: bool = False):
    def parse(raw: str):
        value = raw.strip()
        if len(value) > max_length:
            raise ValueError(f"At most {max_length} characters.")
        if any(ord(char) < 32 or ord(char) == 127 for char in value):
            raise ValueError("Must not contain control characters.")
        return value.upper() if upper else value

    return parse


def integer(minimum: int = 0, maximum: int = 1_000_000):
    def parse(raw: str):
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError("Enter a whole number.") from None
        if not minimum <= value <= maximum:
            raise ValueError(f"Enter a number between {minimum} and {maximum}.")
        return value

    return parse


def money(raw: str) -> Decimal:
    try:
        value = Decimal(raw.strip().lstrip("$"))
    except InvalidOperation:
        raise ValueError("Enter an amount like 60.00.") from None
    if not value.is_finite() or value < 0 or value >= Decimal("100000000"):
        raise ValueError("Enter an amount of 0 or more, like 60.00.")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("At most two decimal places.")
    return value.quantize(Decimal("0.01"))


def shoe_size(raw: str) -> Decimal:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise ValueError("Enter a size like 8 or 8.5.") from None
    if (
        not value.is_finite()
        or not Decimal("1") <= value <= Decimal("20")
        or value % 1
        not in (
            Decimal("0"),
            Decimal("0.5"),
        )
    ):
        raise ValueError("Enter a whole or half size between 1 and 20, like 8 or 8.5.")
    return value.quantize(Decimal("0.1"))


WIDTH_BY_LABEL = {label.upper(): value for value, label in Width.choices}


def width(raw: str) -> int:
    value = WIDTH_BY_LABEL.get(raw.strip().upper())
    if value is None:
        raise ValueError(f"Choose one of: {', '.join(WIDTH_BY_LABEL)}.")
    return value


def choice(values):
    def parse(raw: str):
        value = raw.strip().lower()
        if value not in values:
            raise ValueError(f"Choose one of: {', '.join(values)}.")
        return value

    return parse


TRUE = {"true", "yes", "y", "1"}
FALSE = {"false", "no", "n", "0"}


def boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ValueError("Enter true or false.")


def iso_date(raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError("Enter a date as YYYY-MM-DD.") from None


def upc(raw: str) -> str:
    value = raw.strip()
    if natural_number(value) is None or not 8 <= len(value) <= 14:
        raise ValueError("Enter 8 to 14 digits.")
    return value


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[str], object]
    required: bool = True  # a value is required on every row
    in_header: bool = True  # the column must be in the header
    default: object = None  # the value when the cell is empty and not required


# --- The core --------------------------------------------------------------------------


@dataclass
class ParsedRow:
    row: int
    values: dict


@dataclass
class Validation:
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def add(self, row: int, column: str, message: str) -> None:
        self.errors.append(RowError(row, column, message))

    @property
    def bad_rows(self) -> int:
        return len({error.row for error in self.errors})


def read_csv(data: bytes | str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and rows (with their row numbers) of a CSV file. Accepts a UTF-8 BOM and
    ",", ";" or tab delimiters. Header names are matched case-insensitively."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise CsvFileError(
                [RowError(1, "-", f"The file is not UTF-8 text (byte {error.start}).")]
            ) from None
    data = data.removeprefix("\ufeff")
    first_line = data.split("\n", 1)[0]
    if not first_line.strip():
        raise CsvFileError([RowError(1, "-", "The file is empty or has no header row.")])
    try:
        dialect = csv.Sniffer().sniff(first_line, delimiters=DELIMITERS)
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(data, newline=""), delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader)]
    rows = []
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise CsvFileError([RowError(number, "-", f"At most {MAX_ROWS} rows per file.")])
        values = dict(zip(header, cells, strict=False))
        if len(cells) > len(header):
            values["__extra__"] = "yes"
        rows.append((number, values))
    return header, rows


def check_header(header: list[str], columns: list[Column]) -> None:
    known = {column.name for column in columns}
    errors = [
        RowError(1, column.name, "Missing column.")
        for column in columns
        if column.in_header and column.name not in header
    ]
    errors += [
        RowError(1, name or "(blank)", "Unknown column.") for name in header if name not in known
    ]
    duplicates = {name for name in header if header.count(name) > 1}
    errors += [RowError(1, name, "Column appears twice.") for name in sorted(duplicates)]
    if errors:
        raise CsvFileError(errors)


def validate_rows(
    rows: list[tuple[int, dict[str, str]]], columns: list[Column], progress: Progress = None
) -> Validation:
    """Parse every cell of every row; every problem is reported, none stops the others."""
    result = Validation()
    for number, cells in rows:
        values = {}
        ok = True
        if "__extra__" in cells:
            result.add(number, "-", "More cells than the header has columns.")
            ok = False
        for column in columns:
            raw = cells.get(column.name) or ""
            if not raw.strip():
                if column.required:
                    result.add(number, column.name, "A value is required.")
                    ok = False
                values[column.name] = column.default
                continue
            try:
                values[column.name] = column.parse(raw)
            except ValueError as error:
                result.add(number, column.name, str(error))
                ok = False
        if ok:
            result.rows.append(ParsedRow(number, values))
        if progress is not None:
            progress(1)
    return result


def _parse(data, columns, progress) -> Validation:
    header, rows = read_csv(data)
    check_header(header, columns)
    return validate_rows(rows, columns, progress)


def duplicates_report(
    validation: Validation, key: Callable[[dict], object], column: str, what: str
):
    first_row = {}
    for parsed in validation.rows:
        value = key(parsed.values)
        if value in first_row:
            validation.add(parsed.row, column, f"{what} already on row {first_row[value]}.")
        else:
            first_row[value] = parsed.row


# --- Catalogue -------------------------------------------------------------------------

CATALOG_COLUMNS = [
    Column("style_number", text(Style._meta.get_field("number").max_length, upper=True)),
    Column("style_name", text(Style._meta.get_field("name").max_length)),
    Column("category", text(Style._meta.get_field("category").max_length)),
    # A season's code ("SS27"); the column may be left out, and a blank cell leaves the
    # style's season as it is.
    Column(
        "season",
        text(Season._meta.get_field("code").max_length, upper=True),
        required=False,
        in_header=False,
        default="",
    ),
    Column("replenishment", choice(Replenishment.values)),
    Column("lead_time_days", integer(0, 730)),
    Column("sku", text(SKU._meta.get_field("code").max_length, upper=True)),
    Column("color", text(SKU._meta.get_field("color").max_length)),
    Column("size", shoe_size),
    Column("width", width),
    Column("upc", upc),
    Column("price", money),
    Column("msrp", money),
    Column("active", boolean, required=False, default=True),
    Column("core", boolean, required=False, default=False),
    Column("quick_ship", boolean, required=False, default=False),
]
STYLE_COLUMNS = ("style_name", "category", "season", "replenishment", "lead_time_days")


@dataclass
class CatalogPlan:
    validation: Validation
    rows: list[CatalogRow] = field(default_factory=list)


def catalog_validate(data, progress: Progress = None) -> CatalogPlan:
    validation = _parse(data, CATALOG_COLUMNS, progress)
    duplicates_report(validation, lambda v: v["sku"], "sku", "This SKU is")
    duplicates_report(validation, lambda v: v["upc"], "upc", "This UPC is")
    duplicates_report(
        validation,
        lambda v: (v["style_number"], v["color"].lower(), v["size"], v["width"]),
        "size",
        "This style, colour, size and width is",
    )
    style_rows = {}
    for parsed in validation.rows:
        values = parsed.values
        first = style_rows.setdefault(values["style_number"], parsed)
        for name in STYLE_COLUMNS:
            if values[name] != first.values[name]:
                validation.add(
                    parsed.row,
                    name,
                    f"Differs from row {first.row} for style {values['style_number']}.",
                )
    rows = validation.rows
    skus = {
        sku.code: sku
        for sku in SKU.objects.filter(code__in={p.values["sku"] for p in rows}).select_related(
            "style"
        )
    }
    upc_owner = dict(
        SKU.objects.filter(upc__in={p.values["upc"] for p in rows}).values_list("upc", "code")
    )
    cells = {
        (number, color.lower(), size, width_rank): code
        for number, color, size, width_rank, code in SKU.objects.filter(
            style__number__in={p.values["style_number"] for p in rows}
        ).values_list("style__number", "color", "size", "width", "code")
    }
    seasons = set(Season.objects.values_list("code", flat=True))
    for parsed in rows:
        values = parsed.values
        if values["season"] and values["season"] not in seasons:
            validation.add(
                parsed.row,
                "season",
                f"No season {values['season']}: add it in the admin (Seasons) first.",
            )
        owner = upc_owner.get(values["upc"])
        if owner and owner != values["sku"]:
            validation.add(parsed.row, "upc", f"This UPC belongs to SKU {owner}.")
        cell = (values["style_number"], values["color"].lower(), values["size"], values["width"])
        if cells.get(cell, values["sku"]) != values["sku"]:
            validation.add(parsed.row, "size", f"This grid cell is SKU {cells[cell]}.")
        existing = skus.get(values["sku"])
        if existing and existing.style.number != values["style_number"]:
            validation.add(
                parsed.row,
                "style_number",
                f"SKU {values['sku']} belongs to style {existing.style.number}.",
            )
    if validation.errors:
        return CatalogPlan(validation)
    return CatalogPlan(
        validation,
        [CatalogRow(**{c.name: p.values[c.name] for c in CATALOG_COLUMNS}) for p in rows],
    )


# --- Stock counts ----------------------------------------------------------------------

STOCK_COLUMNS = [
    Column("sku", text(SKU._meta.get_field("code").max_length, upper=True)),
    Column(
        "warehouse",
        text(Warehouse._meta.get_field("code").max_length, upper=True),
        required=False,
        in_header=False,
    ),
    Column("on_hand", integer(0, 1_000_000)),
]


@dataclass(frozen=True)
class StockShortfall:
    row: int
    sku_code: str
    warehouse_code: str
    on_hand: int
    allocated: int


@dataclass(frozen=True)
class StockRow:
    sku: str
    warehouse: str
    on_hand: int


@dataclass
class StockPlan:
    validation: Validation
    counts: list[StockCount] = field(default_factory=list)
    requests: list[StockRow] = field(default_factory=list)  # the same counts, by code
    rows: list[int] = field(default_factory=list)  # the row number of each count
    shortfalls: list[StockShortfall] = field(default_factory=list)


def stock_validate(data, progress: Progress = None) -> StockPlan:
    validation = _parse(data, STOCK_COLUMNS, progress)
    rows = validation.rows
    skus = dict(
        SKU.objects.filter(code__in={p.values["sku"] for p in rows}).values_list("code", "pk")
    )
    warehouses = dict(Warehouse.objects.values_list("code", "pk"))
    default = Warehouse.objects.filter(is_default=True).values_list("code", flat=True).first()
    resolved = []
    for parsed in rows:
        values = parsed.values
        sku_id = skus.get(values["sku"])
        if sku_id is None:
            validation.add(parsed.row, "sku", f"Unknown SKU {values['sku']}.")
        code = values["warehouse"] or default
        if code is None:
            validation.add(parsed.row, "warehouse", "Name the warehouse: there is no default.")
        elif code not in warehouses:
            validation.add(parsed.row, "warehouse", f"No warehouse {code}.")
        elif sku_id is not None:
            values["warehouse"] = code
            resolved.append((parsed, sku_id, warehouses[code]))
    duplicates_report(
        validation, lambda v: (v["sku"], v["warehouse"]), "sku", "This SKU and warehouse are"
    )
    if validation.errors:
        return StockPlan(validation)
    allocated = {
        (sku_id, warehouse_id): count
        for sku_id, warehouse_id, count in StockLevel.objects.filter(
            sku_id__in={sku_id for _, sku_id, _ in resolved}
        ).values_list("sku_id", "warehouse_id", "allocated")
    }
    plan = StockPlan(validation)
    for parsed, sku_id, warehouse_id in resolved:
        on_hand = parsed.values["on_hand"]
        plan.counts.append(StockCount(sku_id, warehouse_id, on_hand))
        plan.requests.append(StockRow(parsed.values["sku"], parsed.values["warehouse"], on_hand))
        plan.rows.append(parsed.row)
        held = allocated.get((sku_id, warehouse_id), 0)
        if on_hand < held:
            plan.shortfalls.append(
                StockShortfall(
                    parsed.row, parsed.values["sku"], parsed.values["warehouse"], on_hand, held
                )
            )
    return plan


# --- Inbound runs ----------------------------------------------------------------------

INBOUND_RUN_COLUMNS = ("factory", "warehouse", "status", "eta")
INBOUND_COLUMNS = [
    Column("reference", text(InboundRun._meta.get_field("reference").max_length, upper=True)),
    Column(
        "factory",
        text(InboundRun._meta.get_field("factory").max_length),
        required=False,
        in_header=False,
    ),
    Column(
        "warehouse",
        text(Warehouse._meta.get_field("code").max_length, upper=True),
        required=False,
        in_header=False,
    ),
    Column("status", choice(InboundStatus.values), required=False, in_header=False),
    Column("eta", iso_date),
    Column("sku", text(SKU._meta.get_field("code").max_length, upper=True)),
    Column("quantity", integer(1, 1_000_000)),
]


@dataclass
class InboundPlan:
    validation: Validation
    runs: list[InboundRunInput] = field(default_factory=list)
    created: int = 0
    updated: int = 0


def inbound_validate(data, progress: Progress = None, today: dt.date | None = None) -> InboundPlan:
    validation = _parse(data, INBOUND_COLUMNS, progress)
    by_reference: dict[str, list[ParsedRow]] = defaultdict(list)
    for parsed in validation.rows:
        by_reference[parsed.values["reference"]].append(parsed)
    runs = {
        run.reference: run
        for run in InboundRun.objects.filter(reference__in=by_reference).prefetch_related("lines")
    }
    lookups = {
        "skus": {
            sku.code: sku
            for sku in SKU.objects.filter(code__in={p.values["sku"] for p in validation.rows})
        },
        "warehouses": {w.code: w for w in Warehouse.objects.all()},
    }
    lookups["default_warehouse"] = next(
        (w for w in lookups["warehouses"].values() if w.is_default), None
    )
    plan = InboundPlan(validation)
    for reference, rows in by_reference.items():
        first = rows[0]
        consistent = True
        for parsed in rows[1:]:
            for name in INBOUND_RUN_COLUMNS:
                if parsed.values[name] is not None and parsed.values[name] != first.values[name]:
                    validation.add(
                        parsed.row, name, f"Differs from row {first.row} for run {reference}."
                    )
                    consistent = False
        if not consistent:
            continue
        values = {
            name: next((p.values[name] for p in rows if p.values[name] is not None), None)
            for name in INBOUND_RUN_COLUMNS
        }
        data = InboundRunInput(
            reference=reference,
            eta=values["eta"],
            lines=tuple(InboundLineInput(p.values["sku"], p.values["quantity"]) for p in rows),
            status=values["status"],
            factory=values["factory"],
            warehouse=values["warehouse"],
        )
        _, errors = inbound_run_check(
            data=data, run=runs.get(reference), lookups=lookups, today=today
        )
        for key, messages in errors.items():
            row, column = first.row, key
            if key.startswith("lines["):
                index, column = key[len("lines[") :].split("].", 1)
                row = rows[int(index)].row
            for message in messages:
                validation.add(row, column, message)
        if not errors:
            plan.runs.append(data)
            if reference in runs:
                plan.updated += 1
            else:
                plan.created += 1
    validation.errors.sort()
    return plan

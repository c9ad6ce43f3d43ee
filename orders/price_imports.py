"""Reading and validating the price-list feed (import_price_lists), with the catalogue
feeds' core (inventory.imports): every bad row reported, nothing written unless all
rows are good.

Each row names a list by `price_list` (its code). A row without `style` and `sku` is the
list itself: its name, percent off the base list, dates and the accounts that buy on it
(account numbers separated by spaces; added to the list's accounts); on a list that
exists, a blank cell keeps what it has. A row with a
`style` or a `sku` (not both) is an explicit price on that list; an empty `price`
removes that explicit price."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from inventory.imports import (
    Column,
    Progress,
    Validation,
    check_header,
    iso_date,
    money,
    read_csv,
    text,
    validate_rows,
)
from inventory.models import SKU, PriceList, Style
from orders.models import Account

LIST_COLUMNS = ("name", "percent_off", "starts_on", "ends_on", "accounts")


def percent(raw: str) -> Decimal:
    value = money(raw.rstrip().rstrip("%"))
    if value > 100:
        raise ValueError("Enter a percentage between 0 and 100.")
    return value


def account_numbers(raw: str) -> tuple[str, ...]:
    numbers = tuple(dict.fromkeys(raw.split()))
    if any(len(number) > Account._meta.get_field("number").max_length for number in numbers):
        raise ValueError("Account numbers are separated by spaces.")
    return numbers


PRICE_LIST_COLUMNS = [
    Column("price_list", text(PriceList._meta.get_field("code").max_length)),
    Column("name", text(PriceList._meta.get_field("name").max_length), required=False),
    Column("percent_off", percent, required=False, in_header=False),
    Column("starts_on", iso_date, required=False),
    Column("ends_on", iso_date, required=False, in_header=False),
    Column("accounts", account_numbers, required=False, in_header=False, default=()),
    Column("style", text(Style._meta.get_field("number").max_length, upper=True), required=False),
    Column("sku", text(SKU._meta.get_field("code").max_length, upper=True), required=False),
    Column("price", money, required=False),
]


@dataclass(frozen=True)
class PriceListRow:
    code: str
    name: str
    percent_off: Decimal
    starts_on: dt.date
    ends_on: dt.date | None
    accounts: tuple[int, ...]  # Account ids


@dataclass(frozen=True)
class PriceRow:
    list_code: str
    style_id: int | None
    sku_id: int | None
    price: Decimal | None  # None: remove the explicit price


@dataclass
class PriceListPlan:
    validation: Validation
    lists: list[PriceListRow] = field(default_factory=list)
    prices: list[PriceRow] = field(default_factory=list)


def price_lists_validate(data, progress: Progress = None) -> PriceListPlan:
    header, rows = read_csv(data)
    check_header(header, PRICE_LIST_COLUMNS)
    validation = validate_rows(rows, PRICE_LIST_COLUMNS, progress)
    list_rows, price_rows, seen_lists, seen_prices = [], [], {}, {}
    for parsed in validation.rows:
        values, row = parsed.values, parsed.row
        code = values["price_list"]
        if values["style"] or values["sku"]:
            if values["style"] and values["sku"]:
                validation.add(row, "sku", "Give a style or a SKU, not both.")
            for name in LIST_COLUMNS:
                if values[name]:
                    validation.add(row, name, "Belongs on the list's own row (no style or sku).")
            key = (code, values["style"], values["sku"])
            if key in seen_prices:
                validation.add(row, "sku", f"This price is already on row {seen_prices[key]}.")
            seen_prices.setdefault(key, row)
            price_rows.append(parsed)
            continue
        if values["price"] is not None:
            validation.add(row, "price", "A price needs a style or a SKU.")
        if code in seen_lists:
            validation.add(row, "price_list", f"This list is already on row {seen_lists[code]}.")
        seen_lists.setdefault(code, row)
        list_rows.append(parsed)
    existing = {
        code: (starts_on, ends_on)
        for code, starts_on, ends_on in PriceList.objects.filter(
            code__in={p.values["price_list"] for p in validation.rows}
        ).values_list("code", "starts_on", "ends_on")
    }
    for parsed in list_rows:
        values = parsed.values
        if values["price_list"] not in existing:
            for name in ("name", "starts_on"):
                if not values[name]:
                    validation.add(parsed.row, name, "A value is required for a new list.")
        starts_on, ends_on = existing.get(values["price_list"], (None, None))
        starts_on, ends_on = values["starts_on"] or starts_on, values["ends_on"] or ends_on
        if starts_on and ends_on and ends_on < starts_on:
            validation.add(parsed.row, "ends_on", f"Ends before the list starts ({starts_on}).")
    for parsed in price_rows:
        if parsed.values["price_list"] not in existing.keys() | seen_lists.keys():
            validation.add(parsed.row, "price_list", "Unknown list: add a row for the list itself.")
    styles = _ids(Style, "number", {p.values["style"] for p in price_rows} - {None})
    skus = _ids(SKU, "code", {p.values["sku"] for p in price_rows} - {None})
    accounts = _ids(Account, "number", {n for p in list_rows for n in p.values["accounts"] or ()})
    for parsed in price_rows:
        values = parsed.values
        if values["style"] and values["style"] not in styles:
            validation.add(parsed.row, "style", f"Unknown style {values['style']}.")
        if values["sku"] and values["sku"] not in skus:
            validation.add(parsed.row, "sku", f"Unknown SKU {values['sku']}.")
    for parsed in list_rows:
        unknown = [n for n in parsed.values["accounts"] if n not in accounts]
        if unknown:
            validation.add(parsed.row, "accounts", f"Unknown account(s): {', '.join(unknown)}.")
    if validation.errors:
        return PriceListPlan(validation)
    return PriceListPlan(
        validation,
        lists=[_list_row(p.values, accounts) for p in list_rows],
        prices=[
            PriceRow(
                p.values["price_list"],
                styles.get(p.values["style"]),
                skus.get(p.values["sku"]),
                p.values["price"],
            )
            for p in price_rows
        ],
    )


def _ids(model, key, values) -> dict[str, int]:
    return dict(model.objects.filter(**{f"{key}__in": values}).values_list(key, "pk"))


def _list_row(values, accounts) -> PriceListRow:
    return PriceListRow(
        code=values["price_list"],
        name=values["name"],
        percent_off=values["percent_off"],
        starts_on=values["starts_on"],
        ends_on=values["ends_on"],
        accounts=tuple(accounts[number] for number in values["accounts"]),
    )

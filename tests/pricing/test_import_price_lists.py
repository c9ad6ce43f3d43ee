"""import_price_lists: the price-list feed, with the other feeds' rules (every bad row
named, nothing written unless all rows are good, --dry-run)."""

import datetime as dt
from decimal import Decimal

import pytest

from inventory.models import PriceList, PriceListItem
from orders.models import PriceListAssignment
from orders.pricing import account_prices
from tests.factories import AccountFactory, SKUFactory, StyleFactory
from tests.inventory.test_imports import run_import

pytestmark = pytest.mark.django_db

HEADER = "price_list,name,percent_off,starts_on,ends_on,accounts,style,sku,price"


@pytest.fixture
def catalogue(terms):
    style = StyleFactory(number="ST100")
    return {
        "style": style,
        "sku": SKUFactory(style=style, code="ST100-BLK-9M", price=Decimal("60.00")),
        "other": SKUFactory(code="ST200-RED-8M", price=Decimal("40.00")),
        "a": AccountFactory(number="A100"),
        "b": AccountFactory(number="A200"),
    }


def test_a_feed_creates_lists_prices_and_assignments(tmp_path, catalogue):
    text = "\n".join(
        [
            HEADER,
            "fall-26,Fall 2026 key accounts,10%,2026-01-01,,A100 A200,,,",
            "fall-26,,,,,,ST100,,50.00",
            "fall-26,,,,,,,ST100-BLK-9M,45.50",
        ]
    )
    ok, out, err = run_import("import_price_lists", tmp_path, text)
    assert ok, err
    assert "Lists: 1 created" in out
    price_list = PriceList.objects.get(code="fall-26")
    assert (price_list.percent_off, price_list.starts_on) == (Decimal("10.00"), dt.date(2026, 1, 1))
    assert set(price_list.assignments.values_list("account__number", flat=True)) == {"A100", "A200"}
    prices = account_prices(account=catalogue["a"], skus=[catalogue["sku"], catalogue["other"]])
    assert prices == {
        catalogue["sku"].pk: Decimal("45.50"),
        catalogue["other"].pk: Decimal("36.00"),
    }


def test_an_empty_price_removes_it_and_blank_list_cells_keep_what_the_list_has(tmp_path, catalogue):
    first = "\n".join(
        [HEADER, "spring,Spring,5,2026-02-01,,A100,,,", "spring,,,,,,,ST100-BLK-9M,41"]
    )
    assert run_import("import_price_lists", tmp_path, first)[0]
    ok, out, err = run_import(
        "import_price_lists",
        tmp_path,
        "\n".join([HEADER, "spring,,,,2026-06-30,,,,", "spring,,,,,,,ST100-BLK-9M,"]),
    )
    assert ok, err
    price_list = PriceList.objects.get(code="spring")
    assert (price_list.name, price_list.percent_off) == ("Spring", Decimal("5.00"))
    assert price_list.ends_on == dt.date(2026, 6, 30)
    assert not PriceListItem.objects.exists()
    assert "1 removed" in out


def test_dry_run_writes_nothing(tmp_path, catalogue):
    text = "\n".join([HEADER, "x,X,1,2026-01-01,,A100,,,"])
    ok, out, _ = run_import("import_price_lists", tmp_path, text, "--dry-run")
    assert ok
    assert "Nothing was written" in out
    assert not PriceList.objects.exists()


def test_every_bad_row_is_named_and_nothing_is_imported(tmp_path, catalogue):
    text = "\n".join(
        [
            HEADER,
            "good,Good,10,2026-01-01,,,,,",
            "new,,,,,,,,",  # a new list without name and start
            "good,,,,,,NOPE,,10",  # unknown style
            "good,,,,,,,ST100-BLK-9M,-1",  # bad price
            "good,,,,,,ST100,ST100-BLK-9M,10",  # both a style and a SKU
            "orphan,,,,,,ST100,,10",  # a price on a list that does not exist
            "late,Late,101,2026-03-01,2026-02-01,A999,,,",  # bad percentage, dates, account
            "good,,,,,,,ST100-BLK-9M,not money",
        ]
    )
    ok, _, err = run_import("import_price_lists", tmp_path, text)
    assert not ok
    for expected in [
        "row 3, column name",
        "row 3, column starts_on",
        "row 4, column style: Unknown style NOPE",
        "row 5, column price",
        "row 6, column sku: Give a style or a SKU, not both",
        "row 7, column price_list: Unknown list",
        "row 8, column percent_off",
        "row 9, column price",
        "nothing was imported",
    ]:
        assert expected in err
    assert not PriceList.objects.exists()
    assert not PriceListAssignment.objects.exists()


def test_dates_and_accounts_are_checked(tmp_path, catalogue):
    text = "\n".join([HEADER, "late,Late,5,2026-03-01,2026-02-01,A999,,,"])
    ok, _, err = run_import("import_price_lists", tmp_path, text)
    assert not ok
    assert "row 2, column ends_on" in err
    assert "row 2, column accounts: Unknown account(s): A999" in err

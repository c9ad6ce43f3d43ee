import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from inventory.models import SKU, InboundLine, InboundRun, Season, StockLevel, Style, Width
from tests.factories import InboundLineFactory, InboundRunFactory, SKUFactory, StockLevelFactory

pytestmark = pytest.mark.django_db

CATALOG_HEADER = (
    "style_number,style_name,category,replenishment,lead_time_days,sku,color,size,width,upc,"
    "price,msrp,active,core,quick_ship"
)


def run_import(command, tmp_path, text, *args, bom=False):
    path = tmp_path / "feed.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, str(path), "--no-progress", *args, stdout=out, stderr=err)
    except CommandError as error:
        return False, out.getvalue(), err.getvalue() + str(error)
    return True, out.getvalue(), err.getvalue()


def test_catalog_import_accepts_a_bom_and_semicolons(tmp_path):
    text = "\n".join(
        [
            CATALOG_HEADER.replace(",", ";"),
            "st1;Walker;Sneakers;committed;56;st1-blk-85w;Black;8.5;W;012345678905;60;130;yes;1;",
            "ST1;Walker;Sneakers;committed;56;ST1-BLK-10N;Black;10;n;012345678912;60.00;130;;;",
        ]
    )
    ok, out, err = run_import("import_catalog", tmp_path, text, bom=True)
    assert ok, err
    assert "SKUs: 2 created" in out
    style = Style.objects.get(number="ST1")
    assert style.lead_time_days == 56
    assert list(style.skus.values_list("code", "size", "width", "core", "active")) == [
        ("ST1-BLK-85W", Decimal("8.5"), Width.WIDE, True, True),
        ("ST1-BLK-10N", Decimal("10.0"), Width.NARROW, False, True),
    ]


def test_catalog_import_reports_every_bad_row_and_imports_nothing(tmp_path):
    SKUFactory(code="TAKEN", upc="099999999999")
    text = "\n".join(
        [
            CATALOG_HEADER,
            "ST1,Walker,Sneakers,committed,56,ST1-A,Black,8.5,M,012345678905,60,130,,,",
            "ST1,Walker,Sneakers,weekly,56,ST1-B,Black,8.25,XL,12,-1,130,maybe,,",
            "ST1,Walker,Sneakers,committed,56,ST1-A,Black,9,M,099999999999,60,130,,,",
            ",Walker,Sneakers,committed,56,ST1-C,Black,9,M,012345678929,60,130,,,",
        ]
    )
    ok, _, err = run_import("import_catalog", tmp_path, text)
    assert not ok
    for expected in [
        "row 3, column replenishment",
        "row 3, column size",
        "row 3, column width",
        "row 3, column upc",
        "row 3, column price",
        "row 3, column active",
        "row 4, column sku: This SKU is already on row 2.",
        "row 4, column upc: This UPC belongs to SKU TAKEN.",
        "row 5, column style_number: A value is required.",
        "nothing was imported",
    ]:
        assert expected in err
    assert not Style.objects.filter(number="ST1").exists()


def test_catalog_import_takes_a_known_season_and_names_the_row_of_an_unknown_one(tmp_path):
    Season.objects.create(code="SS27", name="Spring/Summer 2027", starts_on="2027-01-04")
    header = CATALOG_HEADER + ",season"
    row = "ST1,Walker,Sneakers,committed,56,ST1-A,Black,8.5,M,012345678905,60,130,,,,{}"
    ok, _, err = run_import("import_catalog", tmp_path, f"{header}\n{row.format('XX27')}")
    assert not ok
    assert "row 2, column season: No season XX27" in err
    assert not Style.objects.exists()
    ok, _, err = run_import("import_catalog", tmp_path, f"{header}\n{row.format('ss27')}")
    assert ok, err
    assert Style.objects.get(number="ST1").season_id == "SS27"
    # a file without the column (or a blank cell) leaves the season as it is
    ok, _, err = run_import("import_catalog", tmp_path, f"{CATALOG_HEADER}\n{row[:-3]}")
    assert ok, err
    assert Style.objects.get(number="ST1").season_id == "SS27"


def test_catalog_import_dry_run_writes_nothing(tmp_path):
    text = (
        f"{CATALOG_HEADER}\nST1,Walker,Sneakers,committed,56,ST1-A,Black,8,M,012345678905,60,130,,,"
    )
    ok, out, _ = run_import("import_catalog", tmp_path, text, "--dry-run")
    assert ok
    assert "Nothing was written" in out
    assert not SKU.objects.exists()


def test_a_missing_or_unknown_column_is_reported_on_row_one(tmp_path):
    ok, _, err = run_import("import_stock", tmp_path, "sku,onhand\nX,5")
    assert not ok
    assert "row 1, column on_hand: Missing column." in err
    assert "row 1, column onhand: Unknown column." in err


def test_stock_import_sets_absolute_counts_with_the_default_holdback(tmp_path, warehouse, settings):
    settings.INVENTORY_DEFAULT_HOLDBACK = 2
    counted = StockLevelFactory(warehouse=warehouse, on_hand=40, allocated=5, holdback=0)
    fresh = SKUFactory()
    text = f"sku;warehouse;on_hand\n{counted.sku.code};;12\n{fresh.code.lower()};main;7\n"
    ok, out, err = run_import("import_stock", tmp_path, text)
    assert ok, err
    assert "1 level(s) created, 2 changed" in out
    counted.refresh_from_db()
    assert (counted.on_hand, counted.allocated, counted.holdback) == (12, 5, 0)
    assert StockLevel.objects.values_list("on_hand", "holdback").get(sku=fresh) == (7, 2)


def test_stock_import_reports_unknown_skus_warehouses_and_duplicates(tmp_path, warehouse):
    sku = SKUFactory()
    text = f"sku,warehouse,on_hand\nNOPE,,1\n{sku.code},EAST,1\n{sku.code},,1\n{sku.code},MAIN,2\n"
    ok, _, err = run_import("import_stock", tmp_path, text)
    assert not ok
    assert "row 2, column sku: Unknown SKU NOPE." in err
    assert "row 3, column warehouse: No warehouse EAST." in err
    assert "row 5, column sku: This SKU and warehouse are already on row 4." in err
    assert not StockLevel.objects.exists()


def test_inbound_import_creates_runs_from_their_lines(tmp_path, warehouse):
    a, b = SKUFactory(), SKUFactory()
    eta = (timezone.localdate() + dt.timedelta(days=40)).isoformat()
    text = (
        "reference,factory,status,eta,sku,quantity\n"
        f"po-1,Porto,confirmed,{eta},{a.code},24\n"
        f"PO-1,,,{eta},{b.code},12\n"
        f"PO-2,Braga,,{eta},{a.code},6\n"
    )
    ok, out, err = run_import("import_inbound", tmp_path, text)
    assert ok, err
    assert "Runs: 2 created, 0 updated." in out
    run = InboundRun.objects.get(reference="PO-1")
    assert (run.factory, run.status, run.eta.isoformat()) == ("Porto", "confirmed", eta)
    assert dict(run.lines.values_list("sku__code", "quantity")) == {a.code: 24, b.code: 12}


def test_inbound_import_never_applies_an_eta_change_silently(tmp_path):
    run = InboundRunFactory(reference="PO-7")
    line = InboundLineFactory(run=run, quantity=10)
    later = (run.eta + dt.timedelta(days=9)).isoformat()
    text = (
        "reference,eta,sku,quantity\n"
        f"PO-7,{run.eta.isoformat()},{line.sku.code},20\n"
        f"PO-7,{later},{line.sku.code},20\n"
    )
    ok, _, err = run_import("import_inbound", tmp_path, text)
    assert not ok
    assert "row 3, column eta: Differs from row 2" in err

    text = f"reference,eta,sku,quantity\nPO-7,{later},{line.sku.code},20\n"
    ok, _, err = run_import("import_inbound", tmp_path, text)
    assert not ok
    assert "row 2, column eta: Run PO-7 is due" in err
    assert "ETA change, with a reason" in err
    line.refresh_from_db()
    run.refresh_from_db()
    assert (line.quantity, run.eta.isoformat() != later) == (10, True)


def test_inbound_import_names_the_row_of_a_bad_line(tmp_path):
    run = InboundRunFactory(reference="PO-8")
    line = InboundLineFactory(run=run, quantity=10, received=2, promised=5)
    eta = run.eta.isoformat()
    text = f"reference,eta,sku,quantity\nPO-8,{eta},{line.sku.code},6\nPO-8,{eta},GHOST,6\n"
    ok, _, err = run_import("import_inbound", tmp_path, text)
    assert not ok
    assert "row 2, column quantity: At least 7" in err
    assert "row 3, column sku: Unknown SKU GHOST." in err
    assert InboundLine.objects.count() == 1


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_bytes("sku,on_hand\nSKU\xe9,1\n".encode("latin-1"))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_stock", str(path), "--no-progress", stderr=err)
    assert "not UTF-8" in err.getvalue()


def test_stock_import_resolves_a_shortage_through_the_backorders_stock_sync(
    tmp_path, warehouse, account, buyer
):
    # given an order holding 6 of the 10 pairs in stock
    from orders.services.ordering import LineRequest, order_place

    level = StockLevelFactory(warehouse=warehouse, on_hand=10)
    order = order_place(
        account=account,
        user=buyer,
        lines=[LineRequest(level.sku.code, 6)],
        po_number="PO-1",
        no_charge=True,
    ).order
    assert order.lines.get().allocated == 6

    # when the warehouse counts only 4
    ok, out, err = run_import("import_stock", tmp_path, f"sku,on_hand\n{level.sku.code},4\n")

    # then the count is applied and the newest allocation gave way
    assert ok, err
    assert "shortages:" in out
    level.refresh_from_db()
    assert (level.on_hand, level.allocated) == (4, 4)
    line = order.lines.get()
    assert line.allocated == 4
    assert line.quantity == line.allocated + line.backordered + line.shipped + line.cancelled

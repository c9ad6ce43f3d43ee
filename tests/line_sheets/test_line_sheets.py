"""Line sheets: each style and colour with its picture, the account's prices, MSRP,
sizes with pairs available now and the next ETA; the PDF and the XLSX rendered by a
worker (202 while it is, one render per sheet and format), pictures read from storage
only; the same in the portal and the API."""

import io
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.urls import reverse
from pypdf import PdfReader

from inventory.models import Season, StockLevel, Style
from inventory.selectors import next_eta_by_sku
from inventory.services import style_image_add
from orders import line_sheets, tasks
from orders.line_sheets import (
    LineSheetCategoryUnknown,
    StorageFetcher,
    line_sheet_for,
)
from tests.exports.helpers import xlsx_rows
from tests.factories import SKUFactory, StockLevelFactory, StyleFactory
from tests.inventory.test_pictures import picture_bytes
from tests.orders.conftest import inbound_for
from tests.pricing.conftest import price_list_for

URL = reverse("portal:line_sheet")


@pytest.fixture
def walker(account, warehouse):
    style = StyleFactory(number="WLK100", name="Trail Walker", category="Walking")
    skus = [
        SKUFactory(
            style=style, color="Black", size=size, price=Decimal("60.00"), msrp=Decimal("130.00")
        )
        for size in ("8", "8.5", "9")
    ]
    for sku, on_hand in zip(skus, (12, 0, 4), strict=True):
        StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=on_hand)
    inbound_for(sku=skus[1], warehouse=warehouse, quantity=40)
    style_image_add(style=style, data=picture_bytes(), filename="walker.png", color="Black")
    SKUFactory(style=StyleFactory(category="Boots"))
    price_list_for(account, percent_off="10")
    return skus


@pytest.fixture
def renders(monkeypatch):
    queued = []
    monkeypatch.setattr(
        tasks.line_sheet_render_task, "apply_async", lambda args, **kw: queued.append(tuple(args))
    )
    cache.clear()
    yield queued
    cache.clear()


def test_a_sheet_holds_each_colour_with_prices_sizes_stock_and_eta(account, walker):
    sheet = line_sheet_for(account=account, category="Walking")
    (row,) = sheet.rows
    assert (row.style, row.name, row.color) == ("WLK100", "Trail Walker", "Black")
    assert (row.price.low, row.msrp.low) == (Decimal("54.00"), Decimal("130.00"))
    assert row.picture.startswith("catalogue/")
    assert [(s.size, s.ats) for s in row.sizes] == [("8", 12), ("8.5", 0), ("9", 4)]
    etas = next_eta_by_sku(sku_ids=[sku.pk for sku in walker])
    assert [s.next_eta for s in row.sizes] == [etas[sku.pk] for sku in walker]
    assert row.sizes[1].next_eta is not None
    assert sheet.price_list == "Test list"


def test_another_account_sees_its_own_prices(other_account, walker):
    (row,) = line_sheet_for(account=other_account, category="Walking").rows
    assert row.price.low == Decimal("60.00")


def test_an_unknown_category_is_refused(account, walker):
    with pytest.raises(LineSheetCategoryUnknown):
        line_sheet_for(account=account, category="Nope")


def test_a_sheet_takes_the_same_queries_for_many_styles_as_for_one(
    account, walker, warehouse, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        line_sheet_for(account=account)
    for index in range(20):
        style = StyleFactory(category="Walking")
        sku = SKUFactory(style=style, color=f"C{index}")
        StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=3)
        style_image_add(style=style, data=picture_bytes(size=(64, 64)), filename="x.png")
    with django_assert_max_num_queries(len(few)):
        assert len(line_sheet_for(account=account).rows) > 20


def test_the_pdf_is_rendered_by_a_worker_once_and_then_served(
    account, walker, buyer_client, renders
):
    # when the sheet is first asked for, twice
    first = buyer_client.get(URL, {"category": "Walking"})
    again = buyer_client.get(URL, {"category": "Walking"})
    # then it is being prepared, with one render queued
    assert first.status_code == again.status_code == 202
    assert first["Retry-After"]
    assert renders == [(account.pk, "Walking", "", "pdf")]
    # when the worker renders it (a second delivery of the task does nothing)
    name = tasks.line_sheet_render_task(account.pk, "Walking")
    assert name
    assert default_storage.exists(name)
    assert tasks.line_sheet_render_task(account.pk, "Walking") == ""
    # then it is served
    response = buyer_client.get(URL, {"category": "Walking"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(b"".join(response.streaming_content)))
    text = "".join(page.extract_text() for page in pdf.pages)
    for shown in ("Trail Walker", "$54.00", "MSRP $130.00", account.name, "8.5"):
        assert shown in text, shown
    images = [image for page in pdf.pages for image in page.images]
    assert images, "the picture is embedded"


def test_a_fresh_sheet_is_served_as_made_and_a_stale_one_made_again(
    account, walker, buyer_client, renders, settings
):
    import datetime as dt
    import os
    from pathlib import Path

    from django.utils import timezone

    name = tasks.line_sheet_render_task(account.pk, "Walking")
    # counts move after it was made: the sheet made minutes ago is still served
    StockLevel.objects.filter(sku=walker[1]).update(on_hand=5)
    assert buyer_client.get(URL, {"category": "Walking"}).status_code == 200
    assert renders == []
    # past FRESH it is made again
    old = (timezone.now() - line_sheets.FRESH - dt.timedelta(minutes=1)).timestamp()
    os.utime(Path(settings.MEDIA_ROOT) / name, (old, old))
    assert buyer_client.get(URL, {"category": "Walking"}).status_code == 202
    assert renders == [(account.pk, "Walking", "", "pdf")]
    assert tasks.line_sheet_render_task(account.pk, "Walking") != name


def test_pictures_come_from_storage_only():
    for url in ("https://example.com/picture.jpg", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="storage only"):
            StorageFetcher().fetch(url)


def test_the_xlsx_is_rendered_by_a_worker_once_and_then_served(
    account, walker, buyer_client, renders
):
    # when the workbook is first asked for, twice
    first = buyer_client.get(URL, {"category": "Walking", "format": "xlsx"})
    again = buyer_client.get(URL, {"category": "Walking", "format": "xlsx"})
    # then it is being prepared, with one render queued, apart from the PDF's
    assert first.status_code == again.status_code == 202
    assert first["Retry-After"]
    assert renders == [(account.pk, "Walking", "", "xlsx")]
    # when the worker renders it (a second delivery of the task does nothing)
    name = tasks.line_sheet_render_task(account.pk, "Walking", "", "xlsx")
    assert name.endswith(".xlsx")
    assert f"/line-sheet-{account.number}-walking-" in name
    assert tasks.line_sheet_render_task(account.pk, "Walking", "", "xlsx") == ""
    # a stored workbook is no PDF: the PDF is still to be made
    assert buyer_client.get(URL, {"category": "Walking"}).status_code == 202
    assert renders[-1] == (account.pk, "Walking", "", "pdf")
    # then it is served, one row per size at the account's price
    response = buyer_client.get(URL, {"category": "Walking", "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == line_sheets.FORMATS["xlsx"]
    assert name.rsplit("/", 1)[1] in response["Content-Disposition"]
    header, *rows = xlsx_rows(response)
    assert header == line_sheets.XLSX_HEADER
    assert [row[header.index("Size")] for row in rows] == ["8", "8.5", "9"]
    assert {float(row[header.index("Your price")]) for row in rows} == {54.0}  # numbers
    assert [row[header.index("Available now")] for row in rows] == ["12", "0", "4"]


def test_unknown_categories_and_formats_are_404(account, walker, buyer_client, renders):
    assert buyer_client.get(URL, {"category": "Nope"}).status_code == 404
    assert buyer_client.get(URL, {"category": "Nope", "format": "xlsx"}).status_code == 404
    assert buyer_client.get(URL, {"format": "docx"}).status_code == 404
    assert renders == []


def test_the_catalogue_offers_the_line_sheet_of_the_category_chosen(account, walker, buyer_client):
    page = buyer_client.get(reverse("portal:catalogue"), {"category": "Walking"}).content.decode()
    assert f"{URL}?category=Walking&amp;format=pdf" in page
    page = buyer_client.get(reverse("portal:catalogue")).content.decode()
    assert f'{URL}?format=xlsx"' in page


def test_a_line_sheet_per_season_alone_or_with_a_category(account, walker, buyer_client, renders):
    season = Season.objects.create(code="SS27", name="Spring/Summer 2027", starts_on="2027-01-04")
    Style.objects.filter(number="WLK100").update(season=season)
    sheet = line_sheet_for(account=account, season="SS27")
    assert [row.style for row in sheet.rows] == ["WLK100"]  # not the boot: no season
    assert sheet.title == "Line sheet · Spring/Summer 2027"
    assert "-ss27-all-" in sheet.file_stem
    with pytest.raises(LineSheetCategoryUnknown):
        line_sheet_for(account=account, season="SS27", category="Boots")
    # the downloads
    assert buyer_client.get(URL, {"season": "ss27", "format": "xlsx"}).status_code == 202
    assert "-ss27-all-" in tasks.line_sheet_render_task(account.pk, "", "SS27", "xlsx")
    response = buyer_client.get(URL, {"season": "ss27", "format": "xlsx"})
    assert len(xlsx_rows(response)) == 1 + 3
    renders.clear()
    assert buyer_client.get(URL, {"season": "SS27"}).status_code == 202
    assert renders == [(account.pk, "", "SS27", "pdf")]
    assert buyer_client.get(URL, {"season": "FW99"}).status_code == 404
    name = tasks.line_sheet_render_task(account.pk, "", "SS27")
    assert "-ss27-all-" in name
    assert buyer_client.get(URL, {"season": "SS27"}).status_code == 200
    # the catalogue offers the sheet of the season (and category) chosen
    catalogue = reverse("portal:catalogue")
    page = buyer_client.get(catalogue, {"season": "SS27", "category": "Walking"}).content.decode()
    assert f"{URL}?season=SS27&amp;category=Walking&amp;format=pdf" in page
    assert "Line sheet of SS27 · Walking" in page


def test_stored_sheets_expire_with_statements(account, walker, settings):
    import datetime as dt
    import os
    from pathlib import Path

    from django.utils import timezone

    name = tasks.line_sheet_render_task(account.pk, "Walking")
    kept = default_storage.save(name.replace(".pdf", "-new.pdf"), io.BytesIO(b"%PDF-stored"))
    eight_days_ago = (timezone.now() - dt.timedelta(days=8)).timestamp()
    os.utime(Path(settings.MEDIA_ROOT) / name, (eight_days_ago,) * 2)
    assert tasks.statements_expire_task() == 1
    assert not default_storage.exists(name)
    assert default_storage.exists(kept)


def test_a_sheet_past_its_size_is_cut_short_and_says_so(account, walker, monkeypatch):
    monkeypatch.setattr(line_sheets, "MAX_SKUS", 2)
    sheet = line_sheet_for(account=account, category="Walking")
    assert sheet.cut_short
    assert sum(len(row.sizes) for row in sheet.rows) == 2
    assert not line_sheet_for(account=account, category="Boots").cut_short


API_URL = "/api/v1/line-sheet/"


def test_the_api_serves_both_formats_as_the_portal_does(
    account, walker, buyer, other_account, renders
):
    from tests.conftest import api_client_for

    api = api_client_for(buyer)
    # 202 with Retry-After while a worker renders it, one render per format
    for file_format in ("pdf", "xlsx"):
        response = api.get(API_URL, {"category": "Walking", "format": file_format})
        assert response.status_code == 202, file_format
        assert response["Retry-After"] == str(response.json()["retry_after"])
    assert renders == [(account.pk, "Walking", "", "pdf"), (account.pk, "Walking", "", "xlsx")]
    # then the stored file, by the same name the portal serves
    name = tasks.line_sheet_render_task(account.pk, "Walking", "", "xlsx")
    response = api.get(API_URL, {"category": "Walking", "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == line_sheets.FORMATS["xlsx"]
    assert name.rsplit("/", 1)[1] in response["Content-Disposition"]
    header, *rows = xlsx_rows(response)
    assert {float(row[header.index("Your price")]) for row in rows} == {54.0}
    # unknown categories and formats, and another account, are refused
    assert api.get(API_URL, {"category": "Nope"}).status_code == 404
    assert api.get(API_URL, {"format": "docx"}).status_code == 404
    refused = api.get(API_URL, {"account": other_account.number, "format": "xlsx"})
    assert refused.status_code == 400
    assert refused.json()["errors"]["account"] == ["Not one of your accounts."]

"""The download links on the order, backorder, shipment and invoice lists in a real
browser: they follow the filters as htmx changes them, the files arrive, and the pages
have no CSP or axe-core WCAG 2 A/AA violations."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, no_axe_violations, screenshot
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def history(shop):
    from orders.services import LineRequest, order_place
    from orders.services.fulfilment import shipment_confirm
    from tests.factories import allocated_order_create
    from tests.orders.conftest import make_fill_in

    skus = shop["skus"]
    make_fill_in(shop["account"])
    order_place(
        account=shop["account"],
        user=shop["buyer"],
        lines=[LineRequest(skus[4].code, 6)],
        po_number="PO-WAIT",
    )
    shipped = allocated_order_create(account=shop["account"], lines=[(skus[0], 6)], po_number="P1")
    shipment_confirm(
        order=shipped, carrier="UPS", tracking="1ZDOWNLOAD", lines=[(skus[0].code, 6)], user=None
    )
    return shipped


def test_each_list_offers_its_downloads_with_the_current_filters(browser_page, shop, history):
    page = browser_page
    login(page, shop["buyer"], TEST_PASSWORD)

    page.goto("/orders/")
    page.get_by_label("Status").select_option("open")  # htmx swaps the rows
    orders_csv = page.get_by_role("link", name="Orders (CSV)")
    expect(orders_csv).to_have_attribute("href", re.compile(r"^/exports/orders\.csv\?status=open"))
    with page.expect_download() as download:
        page.get_by_role("link", name="Order lines (Excel)").click()
    assert download.value.suggested_filename.startswith(f"order-lines-{shop['account'].number}")
    assert download.value.suggested_filename.endswith(".xlsx")
    no_axe_violations(page)
    screenshot(page, "orders-downloads")

    for path, link in [
        ("/backorders/", "Backorders (CSV)"),
        ("/shipments/", "Shipments (Excel)"),
        ("/invoices/?status=open", "Invoices (CSV)"),
    ]:
        page.goto(path)
        with page.expect_download() as download:
            page.get_by_role("link", name=link).click()
        assert download.value.suggested_filename.split("-")[0] in path
        no_axe_violations(page)
    expect(page.get_by_role("link", name="Invoices (CSV)")).to_have_attribute(
        "href", "/exports/invoices.csv?status=open"
    )
    screenshot(page, "invoices-downloads")
    assert page.errors == [], page.errors


def test_the_catalogue_offers_the_line_sheet_of_the_chosen_category(
    browser_page, shop, monkeypatch
):
    from orders import tasks

    queued = []
    monkeypatch.setattr(
        tasks.line_sheet_render_task, "apply_async", lambda args, **kw: queued.append(args)
    )
    page = browser_page
    login(page, shop["buyer"], TEST_PASSWORD)
    page.goto("/catalogue/?category=Walking")
    pdf_link = page.get_by_role("link", name="Line sheet (PDF)")
    expect(pdf_link).to_have_attribute("href", "/catalogue/line-sheet/?category=Walking&format=pdf")
    no_axe_violations(page)
    screenshot(page, "catalogue-line-sheet")

    pdf_link.click()
    expect(
        page.get_by_role("heading", name="The line sheet of Walking is being prepared")
    ).to_be_visible()
    assert len(queued) == 1
    # the workbook is prepared the same way, and downloaded once the worker stored it
    page.goto("/catalogue/?category=Walking")
    page.get_by_role("link", name="Line sheet (Excel)").click()
    expect(
        page.get_by_role("heading", name="The line sheet of Walking is being prepared")
    ).to_be_visible()
    assert tuple(queued[1])[3] == "xlsx"
    tasks.line_sheet_render_task(*queued[1])
    with page.expect_download() as download:
        page.get_by_role("link", name="Check now").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    no_axe_violations(page)
    screenshot(page, "line-sheet-preparing")
    assert page.errors == [], page.errors

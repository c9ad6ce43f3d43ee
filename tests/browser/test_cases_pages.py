"""A store reports a damaged carton in a real browser: from its shipments to the claim
form (with a photo), to the case and its timeline, then the cases list; and asks to be
told when a sold-out size is back. Every page free of axe-core WCAG 2 A/AA violations."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import login, no_axe_violations, screenshot
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def delivered(shop):
    from orders.services.fulfilment import shipment_confirm
    from tests.factories import allocated_order_create

    sku = shop["skus"][0]
    order = allocated_order_create(account=shop["account"], lines=[(sku, 6)], po_number="PO-77")
    shipment = shipment_confirm(
        order=order, carrier="UPS", tracking="1Z999AA10123456784", lines=[(sku.code, 6)], user=None
    ).shipment
    return {**shop, "shipment": shipment, "sku": sku}


def _photo(tmp_path):
    path = tmp_path / "carton.jpg"
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (150, 90, 40)).save(out, format="JPEG")
    path.write_bytes(out.getvalue())
    return path


def test_a_store_files_a_claim_and_follows_its_case(browser_page, delivered, tmp_path):
    page = browser_page
    login(page, delivered["buyer"], TEST_PASSWORD)
    page.goto("/shipments/")
    page.get_by_role("link", name=f"Report a problem with {delivered['shipment'].number}").click()
    expect(page.get_by_role("heading", name="Report a problem with shipment")).to_be_visible()
    no_axe_violations(page)
    screenshot(page, "claim-form")

    page.get_by_label("What is wrong?").select_option("damaged")
    page.get_by_label(f"Pairs of {delivered['sku'].code} affected").fill("2")
    page.get_by_label("What happened?").fill("The carton was crushed; two boxes are torn.")
    page.get_by_label("Photos").set_input_files(str(_photo(tmp_path)))
    page.get_by_role("button", name="File the claim").click()

    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    expect(page.get_by_text("The carton was crushed; two boxes are torn.").first).to_be_visible()
    expect(page.get_by_role("img", name="Photo 1 of claim")).to_be_visible()
    page.get_by_label("Write to Trailwise").fill("We need these before Saturday.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("We need these before Saturday.")).to_be_visible()
    no_axe_violations(page)
    screenshot(page, "case-detail")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cases").click()
    expect(page.get_by_role("heading", name="Cases")).to_be_visible()
    no_axe_violations(page)
    screenshot(page, "case-list")
    assert page.errors == [], page.errors


def test_a_buyer_asks_to_be_told_when_a_size_is_back(browser_page, shop):
    page = browser_page
    login(page, shop["buyer"], TEST_PASSWORD)
    sold_out = shop["skus"][4]  # no stock, a run on its way
    page.goto(f"/catalogue/{shop['style'].number}/")
    button = page.get_by_role("button", name="size 9: tell me when it is back")
    button.click()
    expect(page.get_by_role("status").filter(has_text="Alert set")).to_be_visible()
    no_axe_violations(page)
    screenshot(page, "style-alert")

    page.goto("/alerts/")
    expect(page.get_by_role("cell", name=sold_out.code, exact=True)).to_be_visible()
    no_axe_violations(page)
    screenshot(page, "stock-alerts")
    assert page.errors == [], page.errors

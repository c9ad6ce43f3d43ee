"""The catalogue, style page and cart in a real browser: pictures with alt text, the
account's prices, facets that update the results and the URL without a reload, the
card/list toggle, and no axe-core WCAG 2 A/AA violations."""

import io
from decimal import Decimal

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import login, no_axe_violations, screenshot
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pictured(shop):
    from inventory.models import PriceList, Season
    from inventory.services import style_image_add
    from orders.models import PriceListAssignment

    out = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 60, 120)).save(out, "PNG")
    style_image_add(style=shop["style"], data=out.getvalue(), filename="walker.png", color="Black")
    price_list = PriceList.objects.create(
        code="key", name="Key accounts", percent_off=Decimal("10"), starts_on="2020-01-01"
    )
    PriceListAssignment.objects.create(account=shop["account"], price_list=price_list)
    season = Season.objects.create(code="SS27", name="Spring/Summer 2027", starts_on="2027-01-04")
    shop["style"].season = season
    shop["style"].save(update_fields=["season"])
    return shop


def test_catalogue_facets_pictures_and_prices(browser_page, pictured):
    page = browser_page
    login(page, pictured["buyer"], TEST_PASSWORD)
    page.goto("/catalogue/")
    card = page.locator(".style-card", has_text="Trail Walker")
    expect(card.get_by_role("img", name="Trail Walker in Black")).to_be_visible()
    expect(card).to_contain_text("Your price")
    no_axe_violations(page)
    screenshot(page, "catalogue-cards")

    # a facet narrows the results in place and lands in the URL
    page.get_by_label("Boots").check()
    expect(page.locator(".style-card", has_text="Trail Walker")).to_have_count(0)
    expect(page.locator(".style-card", has_text="Ridge Boot")).to_be_visible()
    assert "category=Boots" in page.url
    page.get_by_label("Boots").uncheck()
    expect(page.locator(".style-card", has_text="Trail Walker")).to_be_visible()
    page.get_by_label("List", exact=True).check()
    expect(page.locator("ul.styles.list")).to_be_visible()
    assert "view=list" in page.url
    no_axe_violations(page)
    screenshot(page, "catalogue-list")

    # a season narrows them too, and the line sheet offered is the season's
    page.get_by_label("Spring/Summer 2027").check()
    expect(page.locator(".style-card", has_text="Ridge Boot")).to_have_count(0)
    expect(page.locator(".style-card", has_text="Trail Walker")).to_be_visible()
    assert "season=SS27" in page.url
    expect(page.get_by_role("link", name="Line sheet (PDF)")).to_have_attribute(
        "href", "/catalogue/line-sheet/?season=SS27&format=pdf"
    )
    no_axe_violations(page)
    screenshot(page, "catalogue-season")
    page.get_by_label("Spring/Summer 2027").uncheck()

    # the shared URL opens the same view
    page.goto("/catalogue/?category=Walking&view=list")
    expect(page.locator("ul.styles.list .style-card")).to_have_count(1)
    assert page.errors == [], page.errors


def test_style_page_and_cart_show_pictures_and_the_accounts_price(browser_page, pictured):
    page = browser_page
    login(page, pictured["buyer"], TEST_PASSWORD)
    page.goto(f"/catalogue/{pictured['style'].number}/")
    expect(page.get_by_role("img", name="Trail Walker in Black")).to_be_visible()
    expect(page.locator(".price").first).to_contain_text("MSRP")
    no_axe_violations(page)
    screenshot(page, "style-pictures")
    from orders.services import LineRequest
    from orders.services.cart import cart_lines_add

    sku = pictured["skus"][0]
    cart_lines_add(
        user=pictured["buyer"], account=pictured["account"], lines=[LineRequest(sku.code, 2)]
    )
    page.goto("/cart/")
    expect(page.get_by_role("img", name="Trail Walker in Black")).to_be_visible()
    expect(page.locator("tbody").get_by_role("cell", name="$108.00")).to_be_visible()  # 2 x 54.00
    no_axe_violations(page)
    screenshot(page, "cart-pictures")
    assert page.errors == [], page.errors

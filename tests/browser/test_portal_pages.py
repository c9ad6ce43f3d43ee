"""The dashboard, production calendar, availability chart, scorecard, policies and rep
pages in a real browser, at desktop and tablet widths."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, screenshot
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHART_DRAWN = (
    "() => window.Chart && [...document.querySelectorAll('canvas[data-chart]')]"
    ".every(c => Chart.getChart(c))"
)


def nav(page, name):
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def test_buyer_pages(browser_page, shop):
    page = browser_page
    login(page, shop["buyer"], TEST_PASSWORD)
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Core list")).to_be_visible()
    screenshot(page, "dashboard")

    nav(page, "Calendar")
    expect(page.get_by_text("RUN-WLK-1")).to_be_visible()
    expect(page.get_by_text("ETA moved from")).to_be_visible()
    screenshot(page, "calendar")
    page.get_by_label("Category").select_option("Boots")  # htmx swaps the grid
    expect(page.get_by_text("RUN-WLK-1")).to_have_count(0)
    expect(page.get_by_text("RUN-BT-1")).to_be_visible()
    assert "category=Boots" in page.url

    nav(page, "Scorecard")
    page.wait_for_function(CHART_DRAWN)
    expect(page.get_by_text("no data").first).to_be_visible()
    screenshot(page, "scorecard")

    nav(page, "Policies")
    expect(page.locator("[data-figure=freight]")).to_contain_text("ship free")
    screenshot(page, "policies")

    page.goto(f"/catalogue/{shop['style'].number}/")
    expect(page.get_by_role("heading", name="Availability, week by week")).to_be_visible()
    page.wait_for_function(CHART_DRAWN)
    screenshot(page, "style-availability")
    assert page.errors == [], page.errors


def test_keyboard_reaches_the_main_content_and_nav(browser_page, shop):
    page = browser_page
    login(page, shop["buyer"], TEST_PASSWORD)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    assert page.evaluate("document.activeElement.id") == "main"


def test_rep_pages_show_only_their_accounts(browser_page, shop):
    page = browser_page
    login(page, shop["rep"], TEST_PASSWORD)
    nav(page, "Reps")
    expect(page.get_by_role("link", name="Maple Street Shoes")).to_be_visible()
    expect(page.get_by_text("Other Rep's Store")).to_have_count(0)
    screenshot(page, "rep-accounts")
    page.get_by_role("link", name="Maple Street Shoes").click()
    expect(page.get_by_role("heading", name="Maple Street Shoes")).to_be_visible()
    screenshot(page, "rep-account")
    response = page.goto(f"/reps/accounts/{shop['other'].pk}/")
    assert response.status == 404
    assert page.errors == [] or all("404" in e for e in page.errors)

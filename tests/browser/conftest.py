"""Real-browser fixtures: a headless Chromium against pytest-django's live_server.

Playwright's sync API runs an event loop in the test thread, so Django's ORM (used by
the tests to arrange data) is allowed to run there while, and only while, the browser
tests run: the browser and that permission both end with this package."""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

SCREENSHOTS = Path(__file__).parent / "screenshots"
WIDTHS = {"desktop": 1280, "tablet": 768}
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="package")
def browser():
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_page(browser, live_server):
    """A fresh browser context (no cookies) at desktop width; `page.base_url` is the
    live server. Console errors (e.g. CSP violations) are collected on page.errors."""
    context = browser.new_context(
        viewport={"width": WIDTHS["desktop"], "height": 900}, base_url=live_server.url
    )
    page = context.new_page()
    page.errors = []

    def on_console(message):
        if message.type != "error":
            return
        if not message.location.get("url", "").endswith("/favicon.ico"):
            where = message.location.get("url") or page.url
            page.errors.append(f"{where}:{message.location.get('lineNumber')}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: page.errors.append(f"{page.url}: {e}"))
    page.set_default_timeout(15000)
    yield page
    context.close()


def login(page, user, password):
    """Sign in through the real login form and land on the dashboard."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/")


def screenshot(page, name):
    """Full-page screenshots at desktop and tablet widths, into tests/browser/screenshots/."""
    SCREENSHOTS.mkdir(exist_ok=True)
    original = page.viewport_size
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(150)  # let responsive charts re-layout
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(original)


@pytest.fixture
def shop(transactional_db):
    """A retailer with a buyer, a rep, and a committed style: stock in some sizes, a
    production run for the rest, shipments, an invoice and an ETA move."""
    import datetime as dt

    from django.utils import timezone

    from inventory.models import EtaChange
    from tests.factories import (
        AccountFactory,
        CommercialTermsFactory,
        InboundLineFactory,
        InboundRunFactory,
        MembershipFactory,
        RepFactory,
        ShipToFactory,
        SKUFactory,
        StockLevelFactory,
        StyleFactory,
        UserFactory,
        WarehouseFactory,
    )

    CommercialTermsFactory()
    warehouse = WarehouseFactory()
    rep = RepFactory(full_name="Riley Rep")
    account = AccountFactory(name="Maple Street Shoes", rep=rep)
    ShipToFactory(account=account)
    other = AccountFactory(name="Other Rep's Store", rep=RepFactory())
    ShipToFactory(account=other)
    buyer = MembershipFactory(account=account, user=UserFactory(full_name="Bea Buyer")).user
    style = StyleFactory(number="WLK100", name="Trail Walker", category="Walking")
    run = InboundRunFactory(
        reference="RUN-WLK-1", eta=timezone.localdate() + dt.timedelta(days=20), warehouse=warehouse
    )
    skus = []
    for index, size in enumerate(["7", "7.5", "8", "8.5", "9"]):
        sku = SKUFactory(
            style=style, color="Black", size=size, code=f"WLK100-BLK-{index}", core=index == 2
        )
        StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=10 if index < 4 else 0)
        InboundLineFactory(run=run, sku=sku, quantity=60)
        skus.append(sku)
    boot = StyleFactory(number="BT200", name="Ridge Boot", category="Boots")
    later = InboundRunFactory(
        reference="RUN-BT-1", eta=timezone.localdate() + dt.timedelta(days=45), warehouse=warehouse
    )
    InboundLineFactory(run=later, sku=SKUFactory(style=boot, color="Brown"), quantity=48)
    EtaChange.objects.create(
        run=later,
        old_eta=later.eta - dt.timedelta(days=14),
        new_eta=later.eta,
        reason="Leather delayed",
    )
    return {
        "account": account,
        "other": other,
        "buyer": buyer,
        "rep": rep,
        "style": style,
        "skus": skus,
    }


WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def no_axe_violations(page):
    """axe-core's WCAG 2 A/AA rules over the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, results.generate_report()

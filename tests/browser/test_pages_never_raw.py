"""Error pages, the notification pages, the "being prepared" page and a viewer's
navigation in a real browser: no CSP violations (console errors), no axe-core WCAG 2
A/AA violations, and the layout the stylesheet gives them."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, no_axe_violations, screenshot
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def messages(shop):
    from notifications.models import MessageKind
    from notifications.services import message_enqueue

    message_enqueue(
        kind=MessageKind.ORDER_CONFIRMATION,
        key="browser-store",
        recipients=[shop["buyer"]],
        context={
            "account_name": shop["account"].name,
            "order_number": "SO-10042",
            "po_number": "PO-7781",
            "lines": [],
            "freight": "0.00",
            "total": "0.00",
            "order_url": "/orders/",
        },
    )
    return shop


def test_branded_error_page_with_a_way_back(browser_page, shop):
    page = browser_page
    login(page, shop["buyer"], TEST_PASSWORD)
    response = page.goto("/no-such-page/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="We can’t find that page")).to_be_visible()
    no_axe_violations(page)
    screenshot(page, "error-404")
    page.get_by_role("link", name="Back to the portal").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    # the browser logs the 404 status itself; nothing else (no CSP violation)
    assert [e for e in page.errors if "/no-such-page/" not in e] == [], page.errors


def test_notification_pages_keep_their_layout_under_the_csp(browser_page, messages):
    page = browser_page
    login(page, messages["buyer"], TEST_PASSWORD)
    page.goto("/notifications/")
    expect(page.get_by_role("cell", name="Maple Street Shoes", exact=True)).to_be_visible()
    # the heading and its actions share one row, as the stylesheet lays them out
    head = page.locator(".page-head")
    assert head.evaluate("e => getComputedStyle(e).display") == "flex"
    heading = page.get_by_role("heading", name="Notifications").bounding_box()
    button = page.get_by_role("button", name="Mark all read").bounding_box()
    assert button["y"] < heading["y"] + heading["height"]
    assert button["x"] > heading["x"] + heading["width"]
    no_axe_violations(page)
    screenshot(page, "notifications")

    page.goto("/notifications/preferences/")
    expect(page.get_by_role("heading", name="Email preferences")).to_be_visible()
    no_axe_violations(page)
    screenshot(page, "notification-preferences")
    assert page.errors == [], page.errors


def test_the_being_prepared_page(browser_page, shop):
    from orders.services.fulfilment import shipment_confirm
    from tests.factories import allocated_order_create

    sku = shop["skus"][0]
    order = allocated_order_create(account=shop["account"], lines=[(sku, 2)])
    invoice = shipment_confirm(
        order=order, carrier="UPS", tracking="1ZPREP", lines=[(sku.code, 2)], user=None
    ).invoice
    page = browser_page
    login(page, shop["buyer"], TEST_PASSWORD)
    response = page.goto(f"/invoices/{invoice.number}/pdf/")
    assert response.status == 202
    expect(
        page.get_by_role("heading", name=f"Invoice {invoice.number} is being prepared")
    ).to_be_visible()
    no_axe_violations(page)
    screenshot(page, "document-preparing")
    assert page.errors == [], page.errors


def test_a_viewer_sees_no_cart_or_settings(browser_page, shop):
    from orders.models import MembershipRole
    from tests.factories import MembershipFactory, UserFactory

    viewer = MembershipFactory(
        account=shop["account"], role=MembershipRole.VIEWER, user=UserFactory()
    ).user
    page = browser_page
    login(page, viewer, TEST_PASSWORD)
    main_nav = page.get_by_role("navigation", name="Main")
    expect(main_nav.get_by_role("link", name="Orders", exact=True)).to_be_visible()
    expect(main_nav.get_by_role("link", name="Cart", exact=True)).to_have_count(0)
    expect(main_nav.get_by_role("link", name="Settings", exact=True)).to_have_count(0)
    screenshot(page, "viewer-dashboard")
    assert page.errors == [], page.errors

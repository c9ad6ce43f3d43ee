"""Credit holds and changing an order, in a real browser: the review page's warning, a
held order's page with its reasons, and the change form adding a line; no CSP errors, no
axe-core WCAG 2 A/AA violations."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, no_axe_violations, screenshot
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def held_store(shop):
    """The shop with a $100 credit limit and a previous order (fill-ins from now on)."""
    from orders.models import Order
    from orders.rules import current_terms

    account = shop["account"]
    account.credit_limit = Decimal("100.00")
    account.save()
    Order.objects.create(account=account, terms=current_terms(), number="SO-PREVIOUS")
    return shop


def test_a_held_order_is_warned_of_shown_and_changed(browser_page, held_store):
    from orders.services import LineRequest
    from orders.services.cart import cart_lines_add

    shop = held_store
    first, second = shop["skus"][0], shop["skus"][1]
    cart_lines_add(user=shop["buyer"], account=shop["account"], lines=[LineRequest(first.code, 6)])
    page = browser_page
    login(page, shop["buyer"], TEST_PASSWORD)

    page.goto("/cart/review/")
    expect(page.get_by_text("will not ship until it is released")).to_be_visible()
    no_axe_violations(page)
    screenshot(page, "review-credit-warning")

    page.get_by_label("PO number").fill("PO-HELD")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", name="On credit hold")).to_be_visible()
    no_axe_violations(page)
    screenshot(page, "order-on-credit-hold")

    page.get_by_label("SKU", exact=True).first.fill(second.code)
    page.get_by_label("Pairs", exact=True).first.fill("6")
    page.get_by_role("button", name="Change the order").click()
    expect(page.get_by_text("changed; we have sent the new confirmation")).to_be_visible()
    expect(page.get_by_role("cell", name=second.code).first).to_be_visible()
    no_axe_violations(page)
    screenshot(page, "order-changed")
    assert page.errors == []

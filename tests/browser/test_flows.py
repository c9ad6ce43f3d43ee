"""End-to-end flows through the ordering and backorder pages."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from backorders.models import DecisionRequest, DecisionStatus
from backorders.services.links import decisions_urls
from inventory.models import EtaChange
from orders.models import BackorderPeg, Order, OrderSource
from tests.browser.conftest import login, screenshot
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_grid_and_place(page, shop, *, po, name_prefix):
    """On the style page: 10 pairs of each size in stock and 12 of the size that is only
    on the production run; save, review, submit. Returns the order detail page."""
    skus = shop["skus"]
    page.goto(f"/catalogue/{shop['style'].number}/")
    for sku in skus[:4]:
        page.locator(f"#qty-{sku.pk}").fill("10")
    page.locator(f"#qty-{skus[4].pk}").fill("12")
    screenshot(page, f"{name_prefix}-style-grid")
    page.get_by_role("button", name="Save Black to cart").click()
    expect(page.get_by_role("status").first).to_be_visible()
    page.goto("/cart/review/")
    expect(page.locator("#freight-meter")).to_be_visible()
    expect(page.get_by_text("Free freight", exact=True)).to_be_visible()
    page.get_by_label("PO number").fill(po)
    screenshot(page, f"{name_prefix}-review")
    page.get_by_role("button", name="Place order").click()
    page.wait_for_url("**/orders/**")
    expect(page.get_by_text(po).first).to_be_visible()
    return page


def test_buyer_orders_from_the_size_grid_and_sees_the_backorder(browser_page, shop):
    page = browser_page
    login(page, shop["buyer"], TEST_PASSWORD)
    fill_grid_and_place(page, shop, po="PO-BROWSER-1", name_prefix="buyer")
    order = Order.objects.get(po_number="PO-BROWSER-1")
    backordered = order.lines.get(sku=shop["skus"][4])
    assert (backordered.allocated, backordered.backordered) == (0, 12)
    assert order.source == OrderSource.PORTAL
    expect(page.get_by_text("backorder", exact=False).first).to_be_visible()
    screenshot(page, "buyer-order-detail")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_text(order.number).first).to_be_visible()
    screenshot(page, "buyer-dashboard-after-order")
    assert page.errors == [], page.errors


def test_rep_orders_for_an_assigned_account(browser_page, shop):
    page = browser_page
    login(page, shop["rep"], TEST_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reps").click()
    page.get_by_role("button", name="Order for Maple Street Shoes").click()
    page.wait_for_url("**/catalogue/**")
    fill_grid_and_place(page, shop, po="PO-REP-BROWSER", name_prefix="rep")
    order = Order.objects.get(po_number="PO-REP-BROWSER")
    assert order.account == shop["account"]
    assert order.source == OrderSource.REP
    assert order.placed_by == shop["rep"]
    assert page.errors == [], page.errors


def test_decision_request_answered_from_its_link(browser_page, shop):
    # given: the buyer's backordered line and a decision request sent to them
    page = browser_page
    login(page, shop["buyer"], TEST_PASSWORD)
    fill_grid_and_place(page, shop, po="PO-DECIDE", name_prefix="decision")
    line = Order.objects.get(po_number="PO-DECIDE").lines.get(sku=shop["skus"][4])
    peg = BackorderPeg.objects.get(line=line)
    today = timezone.localdate()
    run = peg.inbound_line.run
    change = EtaChange.objects.create(
        run=run, old_eta=run.eta, new_eta=run.eta + dt.timedelta(days=50), reason="Factory"
    )
    decision = DecisionRequest.objects.create(
        line=line,
        run=run,
        eta_change=change,
        quantity=line.backordered,
        old_date=today + dt.timedelta(days=20),
        new_date=today + dt.timedelta(days=70),
        deadline=today + dt.timedelta(days=5),
    )
    url = decisions_urls(eta_change_id=change.pk, account_id=shop["account"].pk, user=shop["buyer"])
    path = url["cancel_all_url"].split("://", 1)[1].split("/", 1)[1]
    # when: the buyer opens "cancel them all" from the email and confirms
    page.goto(f"/{path}")
    expect(page.get_by_role("radio", name="Cancel them all")).to_be_checked()
    screenshot(page, "decisions-answer")
    page.get_by_role("button", name="Confirm my answers").click()
    # then
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    decision.refresh_from_db()
    line.refresh_from_db()
    assert decision.status == DecisionStatus.CANCELLED
    assert (line.backordered, line.cancelled) == (0, 12)
    screenshot(page, "decisions-done")
    assert page.errors == [], page.errors

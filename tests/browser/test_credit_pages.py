"""The store's credit memo list and an invoice page showing what reduced its balance, in
a real browser: no CSP violations, no axe-core WCAG 2 A/AA violations."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, no_axe_violations, screenshot
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def credited_invoice(shop):
    from orders.services.fulfilment import credit_memo_issue, shipment_confirm
    from tests.factories import allocated_order_create

    sku = shop["skus"][0]
    order = allocated_order_create(account=shop["account"], lines=[(sku, 6)], po_number="PO-88")
    invoice = shipment_confirm(
        order=order, carrier="UPS", tracking="1ZCREDIT", lines=[(sku.code, 6)], user=None
    ).invoice
    memo = credit_memo_issue(
        invoice=invoice, amount="30.00", reason="damaged", note="Two scuffed pairs", user=None
    )
    return invoice, memo


def test_credit_memos_and_the_invoice_they_reduce(browser_page, shop, credited_invoice):
    invoice, memo = credited_invoice
    page = browser_page
    login(page, shop["buyer"], TEST_PASSWORD)

    page.goto("/credit-memos/")
    expect(page.get_by_role("cell", name=memo.number)).to_be_visible()
    no_axe_violations(page)
    screenshot(page, "credit-memos")

    page.get_by_role("link", name=invoice.number).first.click()
    expect(page.get_by_text(memo.number).first).to_be_visible()
    no_axe_violations(page)
    screenshot(page, "invoice-reduced-by-credit")
    assert page.errors == []

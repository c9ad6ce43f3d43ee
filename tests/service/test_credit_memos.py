"""Credits visible: the API list and PDF (202 until a worker renders it), the portal's
credit memo page, the invoice page that shows what reduced its balance, and the email
each memo sends when issued."""

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from notifications.kinds import MessageKind
from notifications.models import Message
from orders import tasks
from orders.services.fulfilment import credit_memo_issue, payment_record, shipment_confirm
from tests.factories import SKUFactory, allocated_order_create

MEMOS = "/api/v1/credit-memos/"


def _invoice(account, *, tracking, price="100.00", quantity=6):
    sku = SKUFactory(price=Decimal(price))
    order = allocated_order_create(account=account, lines=[(sku, quantity)], po_number="PO-77")
    return shipment_confirm(
        order=order, carrier="UPS", tracking=tracking, lines=[(sku.code, quantity)], user=None
    ).invoice


def _memo(invoice, amount="25.00", note="Two scuffed pairs"):
    return credit_memo_issue(invoice=invoice, amount=amount, reason="damaged", note=note, user=None)


def test_the_api_lists_the_callers_credit_memos_in_bounded_queries(
    account, other_account, buyer_api, django_assert_max_num_queries
):
    # given three memos for the buyer's store and one for another store
    invoice = _invoice(account, tracking="1ZTRKA")
    mine = [_memo(invoice, amount="10.00") for _ in range(3)]
    theirs = _memo(_invoice(other_account, tracking="1ZTRKB"))
    # when the buyer lists them
    with django_assert_max_num_queries(8):
        response = buyer_api.get(MEMOS)
    # then they see their own, with the invoice and order they apply to
    assert response.status_code == 200
    results = response.json()["results"]
    assert {r["number"] for r in results} == {memo.number for memo in mine}
    assert theirs.number not in {r["number"] for r in results}
    assert results[0] | {"number": "-"} == {
        "number": "-",
        "account": account.number,
        "invoice": invoice.number,
        "order": invoice.order.number,
        "po_number": "PO-77",
        "issued_on": mine[0].issued_on.isoformat(),
        "reason": "damaged",
        "reason_label": "Damaged in transit",
        "amount": "10.00",
        "note": "Two scuffed pairs",
        "pdf_ready": False,
    }


def test_the_memo_pdf_is_202_with_retry_after_until_a_worker_renders_it(account, buyer_api):
    # given a memo just issued (its PDF not rendered yet)
    memo = _memo(_invoice(account, tracking="1ZTRKC"))
    url = f"{MEMOS}{memo.number}/pdf/"
    # then the PDF answers 202 with Retry-After, and nothing is rendered on the request
    waiting = buyer_api.get(url)
    assert waiting.status_code == 202
    assert waiting["Retry-After"] == "5"
    memo.refresh_from_db()
    assert not memo.pdf
    # when the worker renders it, then the PDF is served
    tasks.document_render_task("credit_memo", memo.pk)
    served = buyer_api.get(url)
    assert served.status_code == 200
    assert served["Content-Type"] == "application/pdf"
    assert b"".join(served.streaming_content).startswith(b"%PDF")


def test_another_stores_memo_pdf_is_404(account, other_account, buyer_api):
    memo = _memo(_invoice(other_account, tracking="1ZTRKD"))
    memo.pdf.save(f"{memo.number}.pdf", ContentFile(b"%PDF-1.4"), save=True)
    assert buyer_api.get(f"{MEMOS}{memo.number}/pdf/").status_code == 404


def test_each_memo_is_emailed_to_the_store_when_issued(account, buyer):
    # given an invoice of the buyer's store
    invoice = _invoice(account, tracking="1ZTRKE")
    # when a memo is issued
    memo = _memo(invoice, amount="40.00")
    # then one message, keyed by the memo, links the invoice page and the memo's PDF
    message = Message.objects.get(kind=MessageKind.CREDIT_MEMO)
    assert message.key == f"credit-memo:{memo.pk}:{buyer.pk}"
    assert message.recipient == buyer
    assert message.context["amount"] == "40.00"
    assert message.context["invoice_url"].endswith(f"/invoices/{invoice.number}/")
    assert message.context["pdf_url"].endswith(f"/credit-memos/{memo.number}/pdf/")


def test_the_credit_memo_page_lists_them_linked_to_their_invoice(
    account, buyer_client, django_assert_max_num_queries
):
    invoice = _invoice(account, tracking="1ZTRKF")
    memos = [_memo(invoice, amount="5.00") for _ in range(4)]
    with django_assert_max_num_queries(12):
        response = buyer_client.get(reverse("portal:credit_memo_list"))
    assert response.status_code == 200
    body = response.content.decode()
    for memo in memos:
        assert reverse("portal:credit_memo_pdf", args=[memo.number]) in body
    assert reverse("portal:invoice_detail", args=[invoice.number]) in body


def test_an_invoice_page_shows_what_reduced_its_balance(
    account, buyer_client, django_assert_max_num_queries
):
    # given a 600.00 invoice, paid 100.00 and credited 25.00
    invoice = _invoice(account, tracking="1ZTRKG")
    payment_record(invoice=invoice, amount="100.00", reference="CHK 1001")
    memo = _memo(invoice)
    # when the buyer opens it
    with django_assert_max_num_queries(12):
        response = buyer_client.get(reverse("portal:invoice_detail", args=[invoice.number]))
    # then the payment and the memo are listed, and the balance is what is left
    assert response.status_code == 200
    reductions = response.context["reductions"]
    assert [(r.kind, r.amount) for r in reductions] == [
        ("payment", Decimal("100.00")),
        ("credit", Decimal("25.00")),
    ]
    assert response.context["invoice"].balance == Decimal("475.00")
    assert f"Credit memo {memo.number}: Damaged in transit" in response.content.decode()


def test_another_stores_invoice_page_is_404(account, other_account, buyer_client):
    invoice = _invoice(other_account, tracking="1ZTRKH")
    url = reverse("portal:invoice_detail", args=[invoice.number])
    assert buyer_client.get(url).status_code == 404


@pytest.mark.parametrize("page", ["portal:invoice_list", "portal:statement"])
def test_the_invoice_list_and_the_statement_link_the_invoice_pages(account, buyer_client, page):
    invoice = _invoice(account, tracking="1ZTRKI")
    _memo(invoice)
    body = buyer_client.get(reverse(page)).content.decode()
    assert reverse("portal:invoice_detail", args=[invoice.number]) in body
    assert reverse("portal:credit_memo_list") in body

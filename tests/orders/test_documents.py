import datetime as dt
import hashlib
import io
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from orders import documents, tasks
from orders.models import CreditMemo, Invoice, ReturnAuthorization, Shipment
from orders.services.fulfilment import (
    credit_memo_issue,
    return_authorize,
    shipment_confirm,
    statement_for,
)
from tests.factories import SKUFactory, allocated_order_create


def _text(pdf: bytes) -> str:
    """The PDF's text with runs of whitespace (line wraps) collapsed to one space."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture
def shipped(account):
    sku = SKUFactory(price=Decimal("64.95"))
    order = allocated_order_create(account=account, lines=[(sku, 6)], po_number="<b>PO</b>-77")
    return shipment_confirm(
        order=order, carrier="UPS", tracking="1Z999AA10123456784", lines=[(sku.code, 6)], user=None
    )


def test_invoice_pdf_shows_number_po_and_total_with_markup_as_text(shipped):
    # when the render task runs after commit
    name = tasks.document_render_task("invoice", shipped.invoice.pk)
    # then the stored PDF carries the invoice number, the PO typed by the retailer as
    # literal text (not markup), and the total
    invoice = Invoice.objects.get(pk=shipped.invoice.pk)
    assert invoice.pdf.name == name
    text = _text(invoice.pdf.read())
    assert "INV-000001" in text
    assert "<b>PO</b>-77" in text
    assert "$404.70" in text  # 6 x 64.95 = 389.70 + 15.00 freight
    assert "Trailwise Wholesale · Invoice INV-000001" in text  # the footer names it
    assert "Page 1 of 1" in text


def test_an_issued_invoice_pdf_never_changes(shipped):
    tasks.document_render_task("invoice", shipped.invoice.pk)
    invoice = Invoice.objects.get(pk=shipped.invoice.pk)
    digest = hashlib.sha256(invoice.pdf.read()).hexdigest()
    name = invoice.pdf.name
    # when someone edits the account and renders again
    invoice.account.name = "Renamed Shoes"
    invoice.account.save()
    with pytest.raises(documents.DocumentAlreadyRendered):
        documents.document_render(kind="invoice", pk=invoice.pk)
    assert tasks.document_render_task("invoice", invoice.pk) == ""
    # then the stored file is the same bytes under the same name
    invoice.refresh_from_db()
    assert invoice.pdf.name == name
    assert hashlib.sha256(invoice.pdf.read()).hexdigest() == digest


def test_a_lost_render_is_picked_up_by_the_sweep(shipped):

    Shipment.objects.filter(pk=shipped.shipment.pk).update(
        shipped_at=timezone.now() - dt.timedelta(minutes=10)
    )
    assert ("invoice", shipped.invoice.pk) in documents.documents_unrendered()
    assert tasks.documents_render_pending_task() == 2  # the invoice and the packing list
    assert documents.documents_unrendered() == []


def test_packing_list_credit_memo_and_return_label_render(shipped, account):
    # given a credit memo and a return authorization
    memo = credit_memo_issue(
        invoice=shipped.invoice,
        amount="20.00",
        reason="damaged",
        note="Crushed <i>box</i>",
        user=None,
    )
    authorization = return_authorize(
        order=shipped.shipment.order,
        lines=[(shipped.shipment.lines.get().order_line.sku.code, 2)],
        reason="defect",
        note="",
        user=None,
    )
    # when each is rendered
    for kind, pk in [
        ("packing_list", shipped.shipment.pk),
        ("credit_memo", memo.pk),
        ("return_label", authorization.pk),
    ]:
        assert tasks.document_render_task(kind, pk)
    # then each holds what it must show
    packing = _text(Shipment.objects.get(pk=shipped.shipment.pk).packing_list_pdf.read())
    assert shipped.shipment.number in packing
    assert "1Z999AA10123456784" in packing
    assert "$" not in packing  # no prices on a packing list
    credit = _text(CreditMemo.objects.get(pk=memo.pk).pdf.read())
    assert "CM-000001" in credit
    assert "$20.00" in credit
    assert "Crushed <i>box</i>" in credit
    label = _text(ReturnAuthorization.objects.get(pk=authorization.pk).label_pdf.read())
    assert "RA-000001" in label
    assert "Trailwise Returns" in label


def test_statement_pdf_lists_open_items_and_aging(shipped, account):
    statement = statement_for(account=account, as_of=timezone.localdate() + dt.timedelta(days=45))
    text = _text(documents.statement_pdf(statement=statement))
    assert "INV-000001" in text
    assert "$404.70" in text
    assert "<b>PO</b>-77" in text


def test_a_long_invoice_runs_over_pages_with_numbers(account):
    skus = [SKUFactory(price=Decimal("51.25")) for _ in range(60)]
    order = allocated_order_create(account=account, lines=[(sku, 6) for sku in skus])
    result = shipment_confirm(
        order=order, carrier="DHL", tracking="JD0141", lines=[(s.code, 6) for s in skus], user=None
    )
    pdf = documents.document_pdf(kind="invoice", pk=result.invoice.pk)
    reader = PdfReader(io.BytesIO(pdf))
    pages = len(reader.pages)
    assert pages >= 2
    assert f"Page {pages} of {pages}" in reader.pages[-1].extract_text()
    assert "$18,450.00" in reader.pages[-1].extract_text()  # 360 x 51.25, free freight


@pytest.mark.parametrize(("page_size", "width", "height"), [("letter", 612, 792), ("A4", 595, 842)])
def test_documents_are_laid_out_on_the_configured_page_size(
    shipped, settings, page_size, width, height
):
    """The print stylesheet is parsed once per process and page size, so a change of
    setting is not served the stylesheet parsed for the other size."""
    documents.document_pdf(kind="invoice", pk=shipped.invoice.pk)  # parsed for the default
    settings.PDF_PAGE_SIZE = page_size
    pdf = documents.document_pdf(kind="invoice", pk=shipped.invoice.pk)
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (width, height)


def test_each_thread_keeps_its_own_font_configuration():
    """Fonts are loaded once per thread, not per document; Pango's font map is not shared
    between threads (statements render on request threads)."""
    with ThreadPoolExecutor(max_workers=1) as other_thread:
        theirs = other_thread.submit(documents._font_config).result()
    assert documents._font_config() is documents._font_config()
    assert theirs is not documents._font_config()

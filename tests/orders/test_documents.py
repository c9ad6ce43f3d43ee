import datetime as dt
import hashlib
import io
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from notifications.services import delivery_breaker_reset
from orders import documents, tasks
from orders.models import Account, CreditMemo, Invoice, ReturnAuthorization, Shipment
from orders.services.fulfilment import (
    credit_memo_issue,
    payment_record,
    return_authorize,
    shipment_confirm,
    statement_for,
)
from tests.factories import SKUFactory, allocated_order_create
from tests.notifications.conftest import CLOSED_PORT_BROKER, celery_broker


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


def test_a_lost_render_is_queued_by_the_sweep_on_the_backlog_queue(shipped, document_renders):
    Shipment.objects.filter(pk=shipped.shipment.pk).update(
        shipped_at=timezone.now() - dt.timedelta(minutes=10)
    )
    assert ("invoice", shipped.invoice.pk) in documents.documents_unrendered()

    # when the sweep runs: one task each, on the backlog queue
    assert tasks.documents_render_pending_task() == 2  # the invoice and the packing list
    assert sorted(document_renders) == [
        (("invoice", shipped.invoice.pk), documents.BACKLOG_QUEUE),
        (("packing_list", shipped.shipment.pk), documents.BACKLOG_QUEUE),
    ]
    # and the next sweep, while they are queued, queues nothing again
    assert tasks.documents_render_pending_task() == 0

    # when the workers run them, nothing is left
    for args, _queue in document_renders:
        tasks.document_render_task(*args)
    assert documents.documents_unrendered() == []
    assert documents.documents_unrendered_count() == {
        "invoices": 0,
        "packing lists": 0,
        "credit memos": 0,
        "return labels": 0,
    }


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
    between threads (a worker may render in several)."""
    with ThreadPoolExecutor(max_workers=1) as other_thread:
        theirs = other_thread.submit(documents._font_config).result()
    assert documents._font_config() is documents._font_config()
    assert theirs is not documents._font_config()


def _boxes(layout) -> list:
    """Every box of every page: its kind, position, size and text."""
    return [
        (
            type(box).__name__,
            box.position_x,
            box.position_y,
            box.width,
            box.height,
            getattr(box, "text", None),
        )
        for page in layout.pages
        for box in page._page_box.descendants()
    ]


def test_documents_lay_out_with_their_own_user_agent_sheet_as_with_weasyprints(
    shipped, account, monkeypatch
):
    """templates/pdf/ua.css stands in for WeasyPrint's HTML5 sheet: every document is laid
    out box for box as it would be with the HTML5 sheet."""
    from weasyprint import HTML

    memo = credit_memo_issue(
        invoice=shipped.invoice, amount="20.00", reason="damaged", note="", user=None
    )
    authorization = return_authorize(
        order=shipped.shipment.order,
        lines=[(shipped.shipment.lines.get().order_line.sku.code, 2)],
        reason="defect",
        note="",
        user=None,
    )
    # the template and context each document is rendered from
    rendered = []
    monkeypatch.setattr(
        documents,
        "pdf_from_template",
        lambda template, context: rendered.append((template, context)),
    )
    for kind, pk in [
        ("invoice", shipped.invoice.pk),
        ("packing_list", shipped.shipment.pk),
        ("credit_memo", memo.pk),
        ("return_label", authorization.pk),
    ]:
        documents.document_pdf(kind=kind, pk=pk)
    documents.statement_pdf(statement=statement_for(account=account, as_of=timezone.localdate()))
    assert len(rendered) == 5

    used = []
    own_sheet = documents.document_html_class()._ua_stylesheets
    monkeypatch.setattr(
        documents.document_html_class(),
        "_ua_stylesheets",
        lambda html, forms=False: used.append(html) or own_sheet(html, forms),
    )
    for template, context in rendered:
        ours = documents.document_layout(template, context)
        html = render_to_string(template, context)
        theirs = HTML(string=html, base_url=str(settings.BASE_DIR)).render(
            stylesheets=[documents._print_stylesheet(context["page_size"])]
        )
        assert _boxes(ours) == _boxes(theirs), template
    # and WeasyPrint took the documents' sheet for each (not its own, silently)
    assert len(used) == len(rendered)


def test_an_invoice_pdf_reads_the_invoice_and_its_lines_in_two_queries(
    account, django_assert_max_num_queries
):
    """The line rows (orders/templatetags/invoice_rows.py) read each line's SKU and style
    from what _load fetched, never row by row, and print what was typed as text."""
    skus = [SKUFactory(price=Decimal("1040.00")) for _ in range(4)]
    skus.append(SKUFactory(price=Decimal("40.00"), style__name="<i>Trail</i> & Co Runner"))
    order = allocated_order_create(account=account, lines=[(sku, 2) for sku in skus])
    result = shipment_confirm(
        order=order,
        carrier="UPS",
        tracking="1Z999AA1",
        lines=[(s.code, 2) for s in skus],
        user=None,
    )
    with django_assert_max_num_queries(2):
        pdf = documents.document_pdf(kind="invoice", pk=result.invoice.pk)
    text = _text(pdf)
    assert all(sku.code in text for sku in skus)
    assert "<i>Trail</i> & Co Runner, Black," in text
    assert "$1,040.00 $2,080.00" in text  # unit price and amount, grouped


# --- Statement downloads: rendered by a worker, stored under a fingerprint of the figures


def _statement_download(client, as_of: dt.date | None = None):
    as_of = as_of or timezone.localdate()
    return client.get(reverse("portal:statement_pdf"), {"as_of": as_of.isoformat()})


def _streamed_text(response) -> str:
    return _text(b"".join(response.streaming_content))


def _stored_statements() -> list[Path]:
    return sorted((Path(settings.MEDIA_ROOT) / "statements").rglob("*.pdf"))


def test_a_statement_is_queued_once_then_served_from_storage(
    shipped, account, buyer_client, statement_renders, django_assert_max_num_queries
):
    today = timezone.localdate().isoformat()
    # when the statement is first asked for (session, user, account, the statement's
    # two queries and its address)
    with django_assert_max_num_queries(6):
        first = _statement_download(buyer_client)
    # then it is being prepared, asked for again by the page, and one render is queued
    assert first.status_code == 202
    assert first["Retry-After"] == "5"
    assert b"being prepared" in first.content
    assert f'href="{reverse("portal:statement_pdf")}?as_of={today}"'.encode() in first.content
    assert len(statement_renders) == 1
    # and a refresh before the worker is done queues nothing more
    assert _statement_download(buyer_client).status_code == 202
    assert len(statement_renders) == 1

    # when the worker renders it
    name = tasks.statement_render_task(*statement_renders[0])

    # then the same URL streams the stored file
    assert name.startswith(f"statements/{account.number}/{today}-")
    with django_assert_max_num_queries(6):
        response = _statement_download(buyer_client)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="statement-{account.number}-{today}.pdf"'
    )
    text = _streamed_text(response)
    assert f"Account {account.number}" in text
    assert "$404.70" in text
    assert len(statement_renders) == 1


def test_the_statement_download_never_renders_on_the_request(
    shipped, account, buyer_client, statement_renders, monkeypatch
):
    # given an account opened last week, and today's statement rendered by the worker
    Account.objects.filter(pk=account.pk).update(created_at=timezone.now() - dt.timedelta(days=7))
    _statement_download(buyer_client)
    tasks.statement_render_task(*statement_renders[0])

    # when rendering is impossible in the web process
    def no_render(template, context):
        raise AssertionError(f"{template} rendered on the request path")

    monkeypatch.setattr(documents, "pdf_from_template", no_render)

    # then the stored statement is served, and another date is queued, not rendered
    assert _statement_download(buyer_client).status_code == 200
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    assert _statement_download(buyer_client, yesterday).status_code == 202
    assert len(statement_renders) == 2


def test_changed_figures_get_a_new_statement_not_the_stored_one(
    shipped, buyer_client, statement_renders
):
    # given the statement rendered and served
    _statement_download(buyer_client)
    tasks.statement_render_task(*statement_renders[0])
    assert "BALANCE DUE $404.70" in _streamed_text(_statement_download(buyer_client))

    # when a payment changes the figures
    payment_record(invoice=shipped.invoice, amount=Decimal("100.00"))

    # then the stored PDF is not served: a render of the new figures is queued
    response = _statement_download(buyer_client)
    assert response.status_code == 202
    assert len(statement_renders) == 2
    assert statement_renders[1][2] != statement_renders[0][2]
    tasks.statement_render_task(*statement_renders[1])
    text = _streamed_text(_statement_download(buyer_client))
    assert "BALANCE DUE $304.70" in text
    assert len(_stored_statements()) == 2


def test_a_statement_render_for_figures_that_moved_on_stores_nothing(shipped, account):
    today = timezone.localdate()
    asked = documents.statement_fingerprint(statement_for(account=account, as_of=today))
    payment_record(invoice=shipped.invoice, amount=Decimal("100.00"))

    assert tasks.statement_render_task(account.pk, today.isoformat(), asked) == ""
    assert _stored_statements() == []


def test_two_racing_statement_renders_keep_the_first_file(shipped, account, monkeypatch):
    today = timezone.localdate()
    statement = statement_for(account=account, as_of=today)
    fingerprint = documents.statement_fingerprint(statement)
    name = documents.statement_file_name(statement=statement, fingerprint=fingerprint)

    # given another worker stores the file while this one renders
    def render_while_another_stores(template, context):
        default_storage.save(name, ContentFile(b"%PDF-first"))
        return b"%PDF-second"

    monkeypatch.setattr(documents, "pdf_from_template", render_while_another_stores)

    # when this one is done, it does not fail and keeps theirs
    assert tasks.statement_render_task(account.pk, today.isoformat(), fingerprint) == ""
    assert [path.read_bytes() for path in _stored_statements()] == [b"%PDF-first"]
    # and a later run finds it stored
    assert tasks.statement_render_task(account.pk, today.isoformat(), fingerprint) == ""


def test_a_statement_is_the_callers_own_accounts(
    shipped, account, other_account, other_buyer, buyer_client, statement_renders
):
    # given Alderbrook's statement is stored for today
    _statement_download(buyer_client)
    tasks.statement_render_task(*statement_renders[0])

    # when another account's buyer asks for the same date
    theirs = Client()
    theirs.force_login(other_buyer)
    assert _statement_download(theirs).status_code == 202
    tasks.statement_render_task(*statement_renders[1])

    # then they get their own statement, never the stored one
    text = _streamed_text(_statement_download(theirs))
    assert f"Account {other_account.number}" in text
    assert account.number not in text
    assert shipped.invoice.number not in text


def test_bad_statement_dates_are_refused_naming_the_problem(buyer_client, statement_renders):
    url = reverse("portal:statement_pdf")
    bad = buyer_client.get(url, {"as_of": "yesterday"})
    assert (bad.status_code, bad.content) == (400, b"Enter the date as YYYY-MM-DD.")
    future = buyer_client.get(url, {"as_of": "2999-01-01"})
    assert future.status_code == 400
    assert b"future" in future.content
    assert statement_renders == []


@pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("redis"),
    reason="the fail-fast publish is tuned for the Redis broker",
)
def test_broker_down_the_statement_download_still_answers_202(shipped, buyer_client, monkeypatch):
    cache.clear()
    delivery_breaker_reset()
    try:
        # when the statement is asked for while the broker is unreachable
        with celery_broker(CLOSED_PORT_BROKER):
            started = time.monotonic()
            response = _statement_download(buyer_client)
            elapsed = time.monotonic() - started
        # then it is being prepared, quickly, and no render is pending
        assert response.status_code == 202
        assert response["Retry-After"] == "5"
        assert elapsed < 2.5

        # so once the broker is back, the next request queues the render
        delivery_breaker_reset()
        queued = []
        monkeypatch.setattr(
            tasks.statement_render_task, "apply_async", lambda args, **kw: queued.append(args)
        )
        assert _statement_download(buyer_client).status_code == 202
        assert len(queued) == 1
    finally:
        delivery_breaker_reset()
        cache.clear()

"""PDF documents (WeasyPrint): invoice, credit memo, packing list, return label, statement.

Issued documents are rendered once, after the issuing transaction commits (by
``orders.tasks.document_render_task``), and stored; a stored PDF is never replaced.
The statement is not an issued document: it is rendered on demand for a date.
Templates live under templates/pdf/ and autoescape everything the retailer typed."""

import datetime as dt
import functools
import threading
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from orders.models import (
    CreditMemo,
    Invoice,
    InvoiceLine,
    ReturnAuthorization,
    ReturnLine,
    Shipment,
    ShipmentLine,
)

BRAND = {
    "name": "Trailwise Wholesale",
    "address": ["Trailwise Footwear Co.", "400 Mill Street", "Portland, ME 04101"],
    "email": "ar@trailwise.example",
    "phone": "(207) 555-0148",
}
RETURNS_ADDRESS = [
    "Trailwise Returns — Dock 4",
    "1200 Commerce Way",
    "Lewiston, ME 04240",
]


class DocumentAlreadyRendered(Exception):
    """An issued document's PDF is stored already; it is never rendered again."""


@dataclass(frozen=True)
class DocumentKind:
    model: type
    file_field: str
    template: str


KINDS = {
    "invoice": DocumentKind(Invoice, "pdf", "pdf/invoice.html"),
    "credit_memo": DocumentKind(CreditMemo, "pdf", "pdf/credit_memo.html"),
    "packing_list": DocumentKind(Shipment, "packing_list_pdf", "pdf/packing_list.html"),
    "return_label": DocumentKind(ReturnAuthorization, "label_pdf", "pdf/return_label.html"),
}


def pdf_from_html(html: str) -> bytes:
    """Plain WeasyPrint, as shipped: the HTML's own styles, a new font configuration per
    call (the benchmark's bare baseline)."""
    from weasyprint import HTML

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


@functools.cache
def _print_stylesheet(page_size: str):
    """templates/pdf/print.css, parsed (and its selectors compiled) once per process and
    page size rather than on every render, as an inline <style> would be."""
    from weasyprint import CSS

    css = render_to_string("pdf/print.css", {"page_size": page_size})
    return CSS(string=css, base_url=str(settings.BASE_DIR))


_fonts = threading.local()


def _font_config():
    """This thread's font configuration. Kept between renders so fontconfig and Pango
    load and measure each font once, not on every document; per thread because Pango's
    font map is not thread-safe (statements render on the request path)."""
    from weasyprint.text.fonts import FontConfiguration

    if not hasattr(_fonts, "config"):
        _fonts.config = FontConfiguration()
    return _fonts.config


def document_layout(template: str, context: dict):
    """A document template laid out in pages (weasyprint.Document), with the print
    stylesheet."""
    from weasyprint import HTML

    html = render_to_string(template, context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).render(
        stylesheets=[_print_stylesheet(context["page_size"])], font_config=_font_config()
    )


def pdf_from_template(template: str, context: dict) -> bytes:
    """A document's PDF: its template rendered, laid out and written."""
    return document_layout(template, context).write_pdf()


def _base_context(**extra) -> dict:
    return {
        "brand": BRAND,
        "page_size": getattr(settings, "PDF_PAGE_SIZE", "letter"),
        "generated_at": timezone.localtime(),
        **extra,
    }


def _load(kind: str, pk: int):
    """The document with what its template reads, in a fixed number of queries."""
    if kind == "invoice":
        return (
            Invoice.objects.select_related("account", "order__ship_to", "shipment")
            .prefetch_related(
                Prefetch("lines", InvoiceLine.objects.select_related("order_line__sku__style"))
            )
            .filter(pk=pk)
            .first()
        )
    if kind == "credit_memo":
        return (
            CreditMemo.objects.select_related("invoice__account", "invoice__order", "invoice_line")
            .filter(pk=pk)
            .first()
        )
    if kind == "packing_list":
        return (
            Shipment.objects.select_related("order__account", "order__ship_to")
            .prefetch_related(
                Prefetch(
                    "lines",
                    ShipmentLine.objects.select_related("order_line__sku__style").order_by(
                        "order_line__sku__code"
                    ),
                )
            )
            .filter(pk=pk)
            .first()
        )
    if kind == "return_label":
        return (
            ReturnAuthorization.objects.select_related("account", "order__ship_to")
            .prefetch_related(
                Prefetch("lines", ReturnLine.objects.select_related("order_line__sku__style"))
            )
            .filter(pk=pk)
            .first()
        )
    raise ValueError(f"Unknown document kind {kind!r}.")


def _context(kind: str, document) -> dict:
    if kind == "invoice":
        return _base_context(
            invoice=document,
            order=document.order,
            account=document.account,
            ship_to=document.order.ship_to,
            lines=list(document.lines.all()),
            pairs=sum(line.quantity for line in document.lines.all()),
            title=f"Invoice {document.number}",
        )
    if kind == "credit_memo":
        return _base_context(
            memo=document,
            invoice=document.invoice,
            order=document.invoice.order,
            account=document.invoice.account,
            title=f"Credit memo {document.number}",
        )
    if kind == "packing_list":
        from orders.services.fulfilment import shipment_packages

        lines = list(document.lines.all())
        return _base_context(
            shipment=document,
            order=document.order,
            account=document.order.account,
            ship_to=document.order.ship_to,
            lines=lines,
            pairs=sum(line.quantity for line in lines),
            packages=shipment_packages(document),
            title=f"Packing list {document.number}",
        )
    lines = list(document.lines.all())
    return _base_context(
        authorization=document,
        order=document.order,
        account=document.account,
        ship_from=document.order.ship_to,
        returns_address=RETURNS_ADDRESS,
        lines=lines,
        pairs=sum(line.quantity for line in lines),
        title=f"Return authorization {document.number}",
    )


def document_pdf(*, kind: str, pk: int) -> bytes:
    """Render an issued document to PDF bytes without storing it (previews and tests)."""
    document = _load(kind, pk)
    if document is None:
        raise KINDS[kind].model.DoesNotExist(f"No {kind} {pk}.")
    return pdf_from_template(KINDS[kind].template, _context(kind, document))


def document_render(*, kind: str, pk: int) -> str:
    """Render an issued document and store it once. Returns the stored file name, or ""
    when the document is gone. Raises DocumentAlreadyRendered when a PDF is stored: an
    issued document never changes, so two racing renders keep the first and discard
    the second."""
    spec = KINDS[kind]
    document = _load(kind, pk)
    if document is None:
        return ""
    if getattr(document, spec.file_field):
        raise DocumentAlreadyRendered(f"{kind} {document} is already rendered.")
    pdf = pdf_from_template(spec.template, _context(kind, document))
    file_field = spec.model._meta.get_field(spec.file_field)
    name = file_field.storage.save(
        file_field.generate_filename(document, f"{document.number}.pdf"), ContentFile(pdf)
    )
    stored = spec.model.objects.filter(pk=pk, **{spec.file_field: ""}).update(
        **{spec.file_field: name}
    )
    if not stored:
        file_field.storage.delete(name)
        raise DocumentAlreadyRendered(f"{kind} {document} was rendered meanwhile.")
    return name


def documents_unrendered(*, older_than: dt.timedelta = dt.timedelta(minutes=2), limit=50):
    """(kind, pk) of issued documents still without a PDF a while after issue: the
    after-commit task was lost (broker down); the periodic sweep renders them."""
    cutoff = timezone.now() - older_than
    cutoff_date = timezone.localdate(cutoff)
    found = []
    found += [
        ("invoice", pk)
        for pk in Invoice.objects.filter(pdf="", shipment__shipped_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:limit]
    ]
    found += [
        ("packing_list", pk)
        for pk in Shipment.objects.filter(packing_list_pdf="", shipped_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:limit]
    ]
    found += [
        ("credit_memo", pk)
        for pk in CreditMemo.objects.filter(pdf="", issued_on__lt=cutoff_date).values_list(
            "pk", flat=True
        )[:limit]
    ]
    found += [
        ("return_label", pk)
        for pk in ReturnAuthorization.objects.filter(
            label_pdf="", created_at__lt=cutoff
        ).values_list("pk", flat=True)[:limit]
    ]
    return found


def statement_pdf(*, statement) -> bytes:
    """A statement of account is not an issued document: rendered for the asked date."""
    context = _base_context(
        statement=statement,
        account=statement.account,
        ship_to=statement.account.ship_tos.filter(is_default=True).first(),
        buckets=list(statement.buckets.items()),
        title=f"Statement {statement.account.number} {statement.as_of:%Y-%m-%d}",
    )
    return pdf_from_template("pdf/statement.html", context)

"""PDF documents (WeasyPrint): invoice, credit memo, packing list, return label, statement.

Issued documents are rendered once, after the issuing transaction commits (by
``orders.tasks.document_render_task``), and stored; a stored PDF is never replaced.
A statement is not an issued document: it is rendered for a date by
``orders.tasks.statement_render_task`` when first asked for, and stored under a
fingerprint of what it shows, so the same figures are served again and changed ones
get a new file; renders are capped per account and stored statements expire. No PDF is
rendered on the request path.
Templates live under templates/pdf/ and autoescape everything the retailer typed."""

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from orders.models import (
    Account,
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
    font map is not thread-safe (a worker may render in several threads)."""
    from weasyprint.text.fonts import FontConfiguration

    if not hasattr(_fonts, "config"):
        _fonts.config = FontConfiguration()
    return _fonts.config


@functools.cache
def document_html_class():
    """weasyprint.HTML with the documents' own user-agent stylesheet, templates/pdf/ua.css
    (parsed once per process): the defaults the templates rely on, where WeasyPrint's
    HTML5 sheet matches some 250 rules against every element of every render (a tenth of
    a one-page invoice's time). WeasyPrint asks `_ua_stylesheets` for the sheet; were it
    to stop, the HTML5 sheet would be used again: the same documents, laid out slower."""
    from weasyprint import CSS, HTML

    sheet = CSS(filename=str(settings.BASE_DIR / "templates" / "pdf" / "ua.css"))

    class DocumentHTML(HTML):
        def _ua_stylesheets(self, forms=False):
            return [sheet]

    return DocumentHTML


def document_layout(template: str, context: dict, *, url_fetcher=None):
    """A document template laid out in pages (weasyprint.Document), with the print
    stylesheet; `url_fetcher` loads what the template refers to (pictures)."""
    html = render_to_string(template, context)
    return document_html_class()(
        string=html, base_url=str(settings.BASE_DIR), url_fetcher=url_fetcher
    ).render(stylesheets=[_print_stylesheet(context["page_size"])], font_config=_font_config())


def pdf_from_template(template: str, context: dict, *, url_fetcher=None) -> bytes:
    """A document's PDF: its template rendered, laid out and written."""
    return document_layout(template, context, url_fetcher=url_fetcher).write_pdf()


def base_context(**extra) -> dict:
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
        return base_context(
            invoice=document,
            order=document.order,
            account=document.account,
            ship_to=document.order.ship_to,
            lines=list(document.lines.all()),
            pairs=sum(line.quantity for line in document.lines.all()),
            title=f"Invoice {document.number}",
        )
    if kind == "credit_memo":
        return base_context(
            memo=document,
            invoice=document.invoice,
            order=document.invoice.order,
            account=document.invoice.account,
            title=f"Credit memo {document.number}",
        )
    if kind == "packing_list":
        from orders.services.fulfilment import shipment_packages

        lines = list(document.lines.all())
        return base_context(
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
    return base_context(
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
    if kind == "return_label":
        from orders.services.returns import return_label_issued

        return_label_issued(authorization_id=pk)
    return name


def documents_unrendered(*, older_than: dt.timedelta = dt.timedelta(minutes=2), limit=5000):
    """(kind, pk) of issued documents still without a PDF a while after issue (the
    after-commit task was lost, or the documents were loaded without one, as seed_demo
    does), at most `limit` of each kind, invoices first: they are what gets asked for."""
    cutoff = timezone.now() - older_than
    cutoff_date = timezone.localdate(cutoff)
    unrendered = {
        "invoice": Invoice.objects.filter(pdf="", shipment__shipped_at__lt=cutoff),
        "packing_list": Shipment.objects.filter(packing_list_pdf="", shipped_at__lt=cutoff),
        "credit_memo": CreditMemo.objects.filter(pdf="", issued_on__lt=cutoff_date),
        "return_label": ReturnAuthorization.objects.filter(label_pdf="", created_at__lt=cutoff),
    }
    return [
        (kind, pk)
        for kind, documents in unrendered.items()
        for pk in documents.order_by("-pk").values_list("pk", flat=True)[:limit]
    ]


# The backlog's own queue. Every worker consumes it and the default queue (settings'
# CELERY_TASK_QUEUES), taking from each in turn: a render someone asked for (default
# queue) waits for at most the render each worker process has in hand, never for the
# backlog, however long it is.
BACKLOG_QUEUE = "documents_backlog"
# A render asked for is not queued again for this long (the page polling for it, an API
# client retrying); long enough for a render, short enough that a lost task is queued
# again by a later request.
ASKED_RENDER_PENDING_SECONDS = 120
# A backlog render is not queued again by the next sweeps while the backlog drains.
BACKLOG_RENDER_PENDING_SECONDS = 3600


def queue_once(key: str, *, seconds: int, task, args: tuple, **options) -> bool:
    """Publish the task unless one was queued under `key` in the last `seconds`; never
    raises. Returns whether this call queued it."""
    from notifications.services import task_publish

    if not cache.add(key, True, timeout=seconds):
        return False
    if task_publish(task, args, **options):
        return True
    # Broker down: nothing is pending, so the next ask tries again (the publish breaker
    # keeps that try cheap while the broker stays down).
    cache.delete(key)
    return False


def document_render_asked(*, kind: str, pk: int) -> bool:
    """Someone asked for an issued document that has no PDF yet: queue its render now,
    ahead of the backlog, once (see ASKED_RENDER_PENDING_SECONDS)."""
    from orders.tasks import document_render_task

    return queue_once(
        f"document-render-asked:{kind}:{pk}",
        seconds=ASKED_RENDER_PENDING_SECONDS,
        task=document_render_task,
        args=(kind, pk),
    )


def documents_backlog_queue(*, older_than: dt.timedelta = dt.timedelta(minutes=2)) -> int:
    """Queue one render per unrendered issued document on the backlog queue, so every
    worker process renders them side by side as fast as it can. A document queued by an
    earlier sweep in the last BACKLOG_RENDER_PENDING_SECONDS is not queued again.
    Returns how many were queued."""
    from orders.tasks import document_render_task

    return sum(
        queue_once(
            f"document-render-backlog:{kind}:{pk}",
            seconds=BACKLOG_RENDER_PENDING_SECONDS,
            task=document_render_task,
            args=(kind, pk),
            queue=BACKLOG_QUEUE,
        )
        for kind, pk in documents_unrendered(older_than=older_than)
    )


def documents_unrendered_count() -> dict[str, int]:
    """How many issued documents of each kind have no PDF yet (the backlog's progress)."""
    return {
        "invoices": Invoice.objects.filter(pdf="").count(),
        "packing lists": Shipment.objects.filter(packing_list_pdf="").count(),
        "credit memos": CreditMemo.objects.filter(pdf="").count(),
        "return labels": ReturnAuthorization.objects.filter(label_pdf="").count(),
    }


# A render queued for a fingerprint is not queued again for this long (a user refreshing
# the "being prepared" page); long enough for a render, short enough that a lost task
# is queued again by a later request.
STATEMENT_RENDER_PENDING_SECONDS = 120
# Each statement date with new figures is a WeasyPrint job and a stored file: at most
# this many are queued for one account in a clock hour (a retailer needs a handful).
STATEMENT_RENDERS_PER_HOUR = 20
# Stored statements are figures as of a date, asked for once and rarely again: deleted
# after this long (the beat job documents-statements-expire); asked for again, one
# is simply rendered again.
STATEMENT_KEEP = dt.timedelta(days=7)
STATEMENTS_DIR = "statements"
LINE_SHEETS_DIR = "line_sheets"  # orders.line_sheets; kept as long as statements


class StatementRendersCapped(Exception):
    """The account has had STATEMENT_RENDERS_PER_HOUR statement renders queued this hour."""

    def __init__(self, retry_after: int):
        super().__init__(f"Too many statements asked for; retry in {retry_after} s.")
        self.retry_after = retry_after


def _statement_ship_to(account):
    return account.ship_tos.filter(is_default=True).first()


def statement_pdf(*, statement) -> bytes:
    """A statement of account's PDF for its date (not stored: see statement_render)."""
    context = base_context(
        statement=statement,
        account=statement.account,
        ship_to=_statement_ship_to(statement.account),
        buckets=list(statement.buckets.items()),
        title=f"Statement {statement.account.number} {statement.as_of:%Y-%m-%d}",
    )
    return pdf_from_template("pdf/statement.html", context)


def statement_fingerprint(statement) -> str:
    """sha256 of everything the statement PDF shows but the time it was made: the
    account, its address, the date, every line and figure."""
    account = statement.account
    ship_to = _statement_ship_to(account)
    shown = {
        "account": [account.pk, account.number, account.name],
        "ship_to": ship_to.as_text() if ship_to else "",
        "as_of": statement.as_of,
        "items": [dataclasses.astuple(item) for item in statement.items],
        "buckets": statement.buckets,
        "total_due": statement.total_due,
        "past_due": statement.past_due,
    }
    # Dates and Decimals as their str(): "404.70" stays "404.70", never a float.
    return hashlib.sha256(json.dumps(shown, default=str).encode()).hexdigest()


def statement_file_name(*, statement, fingerprint: str) -> str:
    """Where the statement with these figures is stored, in default storage."""
    return (
        f"{STATEMENTS_DIR}/{statement.account.number}/"
        f"{statement.as_of.isoformat()}-{fingerprint[:16]}.pdf"
    )


def statement_render_queue(*, account_id: int, as_of: dt.date, fingerprint: str) -> bool:
    """Queue the render of a statement not stored yet. A render already queued for the
    fingerprint in the last STATEMENT_RENDER_PENDING_SECONDS is not queued again (so
    identical requests share one). Returns whether this call queued one. Raises
    StatementRendersCapped past the account's STATEMENT_RENDERS_PER_HOUR."""
    from orders.tasks import statement_render_task

    key = f"statement-render:{fingerprint}"
    if cache.get(key):
        return False
    now = int(time.time())
    count_key = f"statement-renders:{account_id}:{now // 3600}"
    if cache.get(count_key, 0) >= STATEMENT_RENDERS_PER_HOUR:
        raise StatementRendersCapped(retry_after=3600 - now % 3600)
    queued = queue_once(
        key,
        seconds=STATEMENT_RENDER_PENDING_SECONDS,
        task=statement_render_task,
        args=(account_id, as_of.isoformat(), fingerprint),
    )
    if queued:
        cache.add(count_key, 0, timeout=3600)
        cache.incr(count_key)
    return queued


def statements_expire(*, older_than: dt.timedelta = STATEMENT_KEEP) -> int:
    """Delete stored statements and line sheets made more than `older_than` ago (both are
    figures as of a moment, made again when asked for). Returns how many."""
    cutoff = timezone.now() - older_than
    deleted = 0
    for directory in (STATEMENTS_DIR, LINE_SHEETS_DIR):
        if not default_storage.exists(directory):
            continue
        accounts, _ = default_storage.listdir(directory)
        for account_dir in accounts:
            _, names = default_storage.listdir(f"{directory}/{account_dir}")
            for name in names:
                path = f"{directory}/{account_dir}/{name}"
                if default_storage.get_modified_time(path) < cutoff:
                    default_storage.delete(path)
                    deleted += 1
    return deleted


def statement_render(*, account_id: int, as_of: dt.date, fingerprint: str) -> str:
    """Render a statement and store it under its file name, once. Returns the stored
    name, or "" when there is nothing to do: the account is gone, its figures moved
    since the render was asked for (the next request asks for the new ones), or the
    file is stored already. Two racing renders keep the first file and discard the
    second: storage never writes over an existing name."""
    from orders.services.fulfilment import statement_for

    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        return ""
    statement = statement_for(account=account, as_of=as_of)
    if statement_fingerprint(statement) != fingerprint:
        return ""
    name = statement_file_name(statement=statement, fingerprint=fingerprint)
    return store_once(name, lambda: statement_pdf(statement=statement))


def store_once(name: str, render) -> str:
    """Store the bytes render() makes under `name` unless a file is there; returns the
    name, or "" when it was stored already (also by a racing render: storage never
    writes over an existing name, so the second copy is discarded)."""
    if default_storage.exists(name):
        return ""
    stored = default_storage.save(name, ContentFile(render()))
    if stored != name:  # stored meanwhile: storage picked another name for this copy
        default_storage.delete(stored)
        return ""
    return name

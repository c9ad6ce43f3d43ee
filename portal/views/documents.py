"""Shipments, invoices and the statement of account for the current account, with PDF
downloads. Issued PDFs, and statement PDFs once rendered for their figures, are served
from storage; one not yet rendered is queued for a worker at once (ahead of the backlog)
and gets a 202 "being prepared" page that polls until the PDF is there, never a render
on the request path. Another account's document: 404.

The invoice list links each rendered invoice to a short-lived signed download: the list
checks access when it issues the link, and the download checks the signature and that
the browser session it was issued to is still signed in as that user, then streams the
stored file (no invoice query: an issued PDF never changes). Signing out, a password
change or User.sessions_end ends the session, and with it every link issued to it."""

import datetime as dt
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Q, Sum
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.dateformat import format as date_format
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRedirect

from orders.documents import (
    KINDS,
    StatementRendersCapped,
    document_render_asked,
    statement_file_name,
    statement_fingerprint,
    statement_render_queue,
)
from orders.models import Invoice
from orders.selectors import account_history_start
from orders.services.fulfilment import shipment_packages, statement_for
from portal.page_cache import figures_cached
from portal.views.exports import (
    INVOICE_FILTERS,
    invoice_status_filter,
    invoices_listed,
    shipment_order_filter,
    shipments_listed,
)

PAGE_SIZE = 25
RETRY_AFTER_SECONDS = 5
DOWNLOAD_LINK_SALT = "portal.invoice-download"
DOWNLOAD_LINK_MAX_AGE = dt.timedelta(minutes=10)


def _account_or_404(request):
    account = request.account
    if not account:
        raise Http404("No account.")
    return account


@login_required
@require_GET
def shipment_list(request):
    account = _account_or_404(request)
    shipments = (
        shipments_listed(account=account, params=request.GET)
        .select_related("order", "invoice")
        .annotate(pairs=Sum("lines__quantity"))
        .order_by("-shipped_at", "-pk")
    )
    order_number = shipment_order_filter(request.GET)
    page = Paginator(shipments, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"shipment": s, "packages": shipment_packages(s)} for s in page.object_list]
    return render(
        request,
        "portal/documents/shipment_list.html",
        {
            "page": page,
            "rows": rows,
            "order_number": order_number,
            "filters_query": urlencode({"order": order_number}) if order_number else "",
        },
    )


@login_required
@require_GET
@figures_cached
def invoice_list(request):
    account = _account_or_404(request)
    today = timezone.localdate()
    status = invoice_status_filter(request.GET)
    summary = (
        Invoice.objects.filter(account=account)
        .unsettled()
        .with_balance()
        .aggregate(
            open_total=Sum("balance", default=Decimal("0.00")),
            overdue_total=Sum("balance", filter=Q(due_on__lt=today), default=Decimal("0.00")),
        )
    )
    invoices = (
        invoices_listed(account=account, params=request.GET)
        .with_display_status(today=today)
        .with_balance()
        .select_related("order")
        .order_by("-issued_on", "-pk")
    )
    page = Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"invoice": invoice, "pdf_url": _invoice_pdf_url(request, invoice)}
        for invoice in page.object_list
    ]
    return render(
        request,
        "portal/documents/invoice_list.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "filters_query": urlencode({"status": status}) if status else "",
            "filters": INVOICE_FILTERS,
            "summary": summary,
            "page_total": sum((i.total for i in page.object_list), 0),
            "page_balance": sum((i.balance for i in page.object_list), 0),
        },
    )


def _pdf_response(file, *, filename, content_type="application/pdf"):
    return FileResponse(file, as_attachment=True, filename=filename, content_type=content_type)


def preparing_response(request, *, what):
    """202: the PDF is being rendered by a worker. The page polls its own URL (htmx), and
    gets this status again until the PDF is stored (see stored_response)."""
    template = (
        "portal/documents/_preparing_status.html"
        if request.htmx
        else "portal/documents/preparing.html"
    )
    response = render(
        request, template, {"what": what, "retry_after": RETRY_AFTER_SECONDS}, status=202
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def stored_response(request, file, *, filename, content_type="application/pdf"):
    """The stored file (a PDF unless said); to the "being prepared" page's poll, a
    redirect to this same URL, which the browser then downloads."""
    if request.htmx:
        return HttpResponseClientRedirect(request.get_full_path())
    return _pdf_response(file, filename=filename, content_type=content_type)


def _stored_pdf(request, *, kind, document, filename, what):
    file = getattr(document, KINDS[kind].file_field)
    if not file:
        document_render_asked(kind=kind, pk=document.pk)
        return preparing_response(request, what=what)
    return stored_response(request, file.open("rb"), filename=filename)


def _session_digest(*, user_id, session_key) -> str:
    """Binds a download link to the signed-in browser session that was shown it, without
    putting the session key (a credential) in the URL."""
    return salted_hmac(
        DOWNLOAD_LINK_SALT, f"{user_id}:{session_key}", algorithm="sha256"
    ).hexdigest()[:32]


def invoice_download_url(*, invoice, user_id, session_key) -> str:
    """A signed link to a rendered invoice's stored PDF, for this user's browser session,
    valid for DOWNLOAD_LINK_MAX_AGE. Issue it only to someone who may see the invoice."""
    token = signing.TimestampSigner(salt=DOWNLOAD_LINK_SALT).sign_object(
        {
            "n": invoice.number,
            "f": invoice.pdf.name,
            "u": user_id,
            "s": _session_digest(user_id=user_id, session_key=session_key),
        }
    )
    return reverse("portal:invoice_download", args=[invoice.number, token])


def _invoice_pdf_url(request, invoice) -> str:
    """The signed download once the PDF is stored; until then the signed-in URL, which
    says it is being prepared."""
    if not invoice.pdf:
        return reverse("portal:invoice_pdf", args=[invoice.number])
    return invoice_download_url(
        invoice=invoice, user_id=request.user.pk, session_key=request.session.session_key
    )


@login_required
@require_GET
def invoice_pdf(request, number):
    account = _account_or_404(request)
    invoice = Invoice.objects.filter(account=account, number=number).first()
    if invoice is None:
        raise Http404("No such invoice.")
    return _stored_pdf(
        request,
        kind="invoice",
        document=invoice,
        filename=f"{invoice.number}.pdf",
        what=f"Invoice {number}",
    )


@require_GET
@cache_control(private=True)
def invoice_download(request, number, token):
    """The stored PDF behind a link from invoice_download_url. A link shown to another
    session or to one that has ended (signed out, password changed), for another
    invoice, or tampered with: 404. An expired one goes to the signed-in URL, which
    checks access again and serves the file."""
    try:
        link = signing.TimestampSigner(salt=DOWNLOAD_LINK_SALT).unsign_object(
            token, max_age=DOWNLOAD_LINK_MAX_AGE
        )
    except signing.SignatureExpired:
        return redirect("portal:invoice_pdf", number=number)
    except signing.BadSignature:
        raise Http404("No such invoice.") from None
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    issued_to = _session_digest(user_id=link["u"], session_key=session_key)
    if link["n"] != number or not constant_time_compare(link["s"], issued_to):
        raise Http404("No such invoice.")
    # The session must still exist and still be that user's: the cookie alone outlives
    # a sign-out wherever it was copied. request.user loads and verifies the session.
    if request.user.pk != link["u"]:
        raise Http404("No such invoice.")
    storage = Invoice._meta.get_field("pdf").storage
    return _pdf_response(storage.open(link["f"], "rb"), filename=f"{number}.pdf")


def _account_document_pdf(*, kind: str, what: str, account_field: str, suffix: str = ""):
    """The portal view of one kind of the current account's issued documents, by number:
    the stored PDF, or the "being prepared" page (naming `what`) while a worker renders it."""
    spec = KINDS[kind]

    @login_required
    @require_GET
    def view(request, number):
        account = _account_or_404(request)
        document = spec.model.objects.filter(**{account_field: account}, number=number).first()
        if document is None:
            raise Http404(f"No such {spec.model._meta.verbose_name}.")
        return _stored_pdf(
            request,
            kind=kind,
            document=document,
            filename=f"{number}{suffix}.pdf",
            what=f"{what} {number}",
        )

    return view


packing_list_pdf = _account_document_pdf(
    kind="packing_list", what="Packing list", account_field="order__account", suffix="-packing-list"
)
credit_memo_pdf = _account_document_pdf(
    kind="credit_memo", what="Credit memo", account_field="invoice__account"
)
return_label_pdf = _account_document_pdf(
    kind="return_label", what="Return label", account_field="account", suffix="-label"
)


def _as_of(request, account):
    """The statement date asked for (?as_of=YYYY-MM-DD), today by default; within the
    account's history: never future, never before its first day (a statement then shows
    nothing, and every such date would be another render)."""
    today = timezone.localdate()
    raw = request.GET.get("as_of", "").strip()
    if not raw:
        return today, None
    try:
        as_of = dt.date.fromisoformat(raw)
    except ValueError:
        return today, "Enter the date as YYYY-MM-DD."
    if as_of > today:
        return today, "The statement date cannot be in the future."
    # From the day the account was opened no query is needed: within its history.
    if as_of < timezone.localdate(account.created_at):
        start = account_history_start(account=account)
        if as_of < start:
            return today, f"The account's history starts on {date_format(start, 'M j, Y')}."
    return as_of, None


@login_required
@require_GET
def statement(request):
    account = _account_or_404(request)
    as_of, error = _as_of(request, account)
    data = statement_for(account=account, as_of=as_of)
    status = 400 if error else 200
    return render(
        request,
        "portal/documents/statement.html",
        {
            "statement": data,
            "buckets": list(data.buckets.items()),
            "error": error,
            "as_of_value": request.GET.get("as_of", "")[:10] if error else as_of.isoformat(),
        },
        status=status,
    )


def _text(message, *, status, **headers):
    return HttpResponse(
        message, status=status, content_type="text/plain; charset=utf-8", headers=headers
    )


@login_required
@require_GET
def statement_download(request):
    """A statement is not an issued document: its PDF for the date asked is rendered by a
    worker the first time these figures are asked for, and stored under a fingerprint of
    them (for a while: see documents.STATEMENT_KEEP). The same figures are streamed from
    storage; new ones get 202 while rendered, and 429 past the account's hourly cap."""
    account = _account_or_404(request)
    as_of, error = _as_of(request, account)
    if error:
        return _text(error, status=400)
    data = statement_for(account=account, as_of=as_of)
    fingerprint = statement_fingerprint(data)
    name = statement_file_name(statement=data, fingerprint=fingerprint)
    try:
        stored = default_storage.open(name, "rb")
    except FileNotFoundError:  # never made, or expired
        stored = None
    if stored is not None:
        return stored_response(
            request, stored, filename=f"statement-{account.number}-{as_of.isoformat()}.pdf"
        )
    try:
        statement_render_queue(account_id=account.pk, as_of=as_of, fingerprint=fingerprint)
    except StatementRendersCapped as capped:
        return _text(
            "Too many statements were asked for this hour; try again later.",
            status=429,
            **{"Retry-After": str(capped.retry_after)},
        )
    return preparing_response(request, what=f"The statement as of {date_format(as_of, 'M j, Y')}")

"""Credit memos for the store: their own page, and an invoice's page that shows what
reduced its balance (payments and credit memos). The current account's only; another
account's invoice is a 404."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from orders.credit_selectors import credit_memos_for, invoice_reductions
from orders.models import CreditMemo, Invoice, InvoiceLine
from portal.page_cache import figures_cached
from portal.views.documents import PAGE_SIZE, _account_or_404, _invoice_pdf_url


@login_required
@require_GET
@figures_cached
def credit_memo_list(request):
    account = _account_or_404(request)
    page = Paginator(credit_memos_for(accounts=[account]), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "portal/documents/credit_memo_list.html", {"page": page})


@login_required
@require_GET
@figures_cached
def invoice_detail(request, number):
    account = _account_or_404(request)
    invoice = (
        Invoice.objects.filter(account=account, number=number)
        .with_display_status(today=timezone.localdate())
        .with_balance()
        .select_related("order")
        .prefetch_related(
            Prefetch("lines", InvoiceLine.objects.order_by("pk")),
            "payments",
            Prefetch("credit_memos", CreditMemo.objects.order_by("issued_on", "pk")),
        )
        .first()
    )
    if invoice is None:
        raise Http404("No such invoice.")
    return render(
        request,
        "portal/documents/invoice_detail.html",
        {
            "invoice": invoice,
            "reductions": invoice_reductions(invoice=invoice),
            "pdf_url": _invoice_pdf_url(request, invoice),
        },
    )

"""Downloads of the account's lists as CSV or XLSX, with the filters the list page has
(its query string, passed through the download link): orders and their lines,
backorders, shipments and invoices. The list pages read their rows through the same
functions, so a download holds exactly what the page lists."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.utils import timezone
from django.views.decorators.http import require_GET

from orders.exports import EXPORTS, FORMATS, export_response
from orders.models import Invoice, InvoiceStatus, Order, OrderLine, Shipment
from orders.selectors import OrderFilterSet

INVOICE_FILTERS = [
    ("", "All"),
    (InvoiceStatus.OPEN, "Open"),
    (InvoiceStatus.OVERDUE, "Overdue"),
    (InvoiceStatus.PAID, "Paid"),
    (InvoiceStatus.CREDITED, "Credited"),
]


def order_filterset(*, account, params) -> OrderFilterSet:
    return OrderFilterSet(params or None, queryset=Order.objects.filter(account=account))


def orders_filtered(filterset: OrderFilterSet):
    """Filters that do not parse are ignored (the page shows why)."""
    return filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset


def orders_listed(*, account, params):
    return orders_filtered(order_filterset(account=account, params=params))


def shipments_listed(*, account, params):
    shipments = Shipment.objects.filter(order__account=account)
    order_number = shipment_order_filter(params)
    return shipments.filter(order__number=order_number) if order_number else shipments


def shipment_order_filter(params) -> str:
    return params.get("order", "").strip()[:20]


def invoice_status_filter(params) -> str:
    status = params.get("status", "")
    return status if status in dict(INVOICE_FILTERS) else ""


def invoices_listed(*, account, params):
    invoices = Invoice.objects.filter(account=account)
    status = invoice_status_filter(params)
    return invoices.with_status(status, today=timezone.localdate()) if status else invoices


LISTED = {
    "orders": orders_listed,
    "order-lines": lambda *, account, params: OrderLine.objects.filter(
        order__in=orders_listed(account=account, params=params)
    ),
    "backorders": lambda *, account, params: OrderLine.objects.filter(order__account=account),
    "shipments": shipments_listed,
    "invoices": invoices_listed,
}


@login_required
@require_GET
def export_download(request, name, file_format):
    account = request.account or None
    if account is None or name not in LISTED or file_format not in FORMATS:
        raise Http404("No such download.")
    return export_response(
        export=EXPORTS[name],
        queryset=LISTED[name](account=account, params=request.GET),
        file_format=file_format,
        kept_as=f"{request.user.pk}:{account.pk}:{request.get_full_path()}",
        label=account.number,
    )

"""The retailer's orders: the list with filters, the detail with each line's split and
dates, and cancelling open quantities. Reads are selectors, the write is order_cancel."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from inventory.parsing import natural_number
from orders.exceptions import OrderNotAllowed
from orders.selectors import (
    OrderFilterSet,
    order_for_user,
    order_line_details,
    orders_visible_to,
    user_can_order,
)
from orders.services import CancelRequest, order_cancel
from portal.page_cache import figures_cached

PAGE_SIZE = 25


@login_required
@require_GET
def order_list(request):
    account = request.account or None
    if account is None:
        raise Http404("You have no retailer account.")
    filterset = OrderFilterSet(
        request.GET or None, queryset=orders_visible_to(user=request.user, account=account)
    )
    queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filterset": filterset, "page": page, "query": query.urlencode()}
    template = "portal/orders/_order_rows.html" if request.htmx else "portal/orders/list.html"
    return render(request, template, context)


@login_required
@require_GET
@figures_cached
def order_detail(request, number):
    order = order_for_user(user=request.user, number=number)
    if order is None:
        raise Http404
    return _detail_page(request, order)


def _detail_page(request, order, *, status=200):
    details = order_line_details(order=order)
    has_open = any(detail.line.open_quantity for detail in details)
    can_order = user_can_order(user=request.user, account=order.account)
    context = {
        "order": order,
        "details": details,
        # Open pairs the user may order for can be cancelled from this page.
        "cancellable": has_open and can_order,
        "can_order": can_order,
    }
    return render(request, "portal/orders/detail.html", context, status=status)


@login_required
@require_POST
def order_cancel_view(request, number):
    order = order_for_user(user=request.user, number=number)
    if order is None:
        raise Http404
    if request.POST.get("all") == "1":
        lines = None
    else:
        lines = [
            CancelRequest(name[7:], value)
            for name, value in request.POST.items()
            if name.startswith("cancel-") and value.strip() not in ("", "0")
        ]
        if not lines:
            messages.error(request, "Enter how many pairs to cancel on at least one line.")
            return redirect("portal:order_detail", order.number)
    try:
        order_cancel(order=order, user=request.user, lines=lines)
    except OrderNotAllowed as error:
        raise PermissionDenied(str(error)) from error
    except ValidationError as error:
        for field, field_messages in error.message_dict.items():
            for message in field_messages:
                messages.error(request, f"{_line_label(field, lines)}{message}")
        return _detail_page(request, order, status=400)
    messages.success(request, "The open quantities you chose are cancelled.")
    return redirect("portal:order_detail", order.number)


def _line_label(field, lines):
    if lines and field.startswith("lines[") and "]" in field:
        index = natural_number(field[6 : field.index("]")])
        if index is not None and index < len(lines):
            return f"Line {lines[index].line_id}: "
    return ""

"""The retailer's orders: the list with filters, the detail with each line's split and
dates, cancelling open quantities and changing an order before it ships. Reads are
selectors, the writes order_cancel and order_edit. The detail page is kept whole while
nothing it shows changes (portal.page_cache), its edit form's idempotency key filled in
for each view."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from inventory.parsing import natural_number
from orders.exceptions import IdempotencyKeyInFlight, IdempotencyKeyReused, OrderNotAllowed
from orders.models import OrderSource, OrderStatus
from orders.selectors import (
    order_for_user,
    order_line_details,
)
from orders.services import CancelRequest, LineRequest, order_cancel
from orders.services.order_edits import ReduceRequest, order_edit
from portal.page_cache import FRESH_KEY, figures_cached, fresh_keys_filled
from portal.views.exports import order_filterset, orders_filtered

PAGE_SIZE = 25
EDIT_ADD_ROWS = 4


@login_required
@require_GET
def order_list(request):
    account = request.account or None
    if account is None:
        raise Http404("You have no retailer account.")
    filterset = order_filterset(account=account, params=request.GET)
    queryset = (
        orders_filtered(filterset)
        .select_related("account", "placed_by")
        .order_by("-placed_at", "-pk")
    )
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
    return _detail_render(request, order)


def _detail_page(request, order, *, status=200, edit_rows=None):
    """The detail page answering a refused cancel or edit, with a new edit key."""
    return fresh_keys_filled(_detail_render(request, order, status=status, edit_rows=edit_rows))


def _detail_render(request, order, *, status=200, edit_rows=None):
    """The detail page with FRESH_KEY where the edit form's idempotency key goes: a key
    of its own for every view, so two edits are never taken for one."""
    details = order_line_details(order=order)
    has_open = any(detail.line.open_quantity for detail in details)
    can_order = request.account_menu.can_order_in(order.account)
    editable = can_order and order.status == OrderStatus.OPEN and not order.no_charge
    context = {
        "order": order,
        "details": details,
        # Open pairs the user may order for can be cancelled from this page.
        "cancellable": has_open and can_order,
        "can_order": can_order,
        # Before anything ships, the order can change: lines added, open lines reduced.
        "editable": editable,
        "edit_rows": edit_rows or [("", "")] * EDIT_ADD_ROWS,
        "edit_key": FRESH_KEY,
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


@login_required
@require_POST
def order_edit_view(request, number):
    order = order_for_user(user=request.user, number=number)
    if order is None:
        raise Http404
    rows = [
        (request.POST.get(f"add-sku-{index}", "").strip(), request.POST.get(f"add-qty-{index}", ""))
        for index in range(EDIT_ADD_ROWS)
    ]
    add = [LineRequest(code, quantity) for code, quantity in rows if code or quantity.strip()]
    reduce = [
        ReduceRequest(name[7:], value)
        for name, value in request.POST.items()
        if name.startswith("reduce-") and value.strip() not in ("", "0")
    ]
    try:
        result = order_edit(
            order=order,
            user=request.user,
            add=add,
            reduce=reduce,
            source=OrderSource.REP if request.user.is_sales_rep else OrderSource.PORTAL,
            idempotency_key=request.POST.get("idempotency_key") or None,
        )
    except OrderNotAllowed as error:
        raise PermissionDenied(str(error)) from error
    except (IdempotencyKeyInFlight, IdempotencyKeyReused):
        messages.warning(request, "This change was already sent; here is the order as it stands.")
        return redirect("portal:order_detail", order.number)
    except ValidationError as error:
        for field, field_messages in error.message_dict.items():
            for message in field_messages:
                messages.error(request, f"{_edit_label(field, add, reduce)}{message}")
        return _detail_page(request, order, status=400, edit_rows=rows)
    verb = "changed" if result.created else "was already changed"
    messages.success(request, f"Order {order.number} {verb}; we have sent the new confirmation.")
    return redirect("portal:order_detail", order.number)


def _edit_label(field, add, reduce):
    """ "add[1].sku" reads "Added line 2 (SKU): ", "reduce[0].by" names the line's SKU."""
    if "[" not in field or "]" not in field:
        return ""
    kind, index = (
        field[: field.index("[")],
        natural_number(field[field.index("[") + 1 : field.index("]")]),
    )
    if kind == "add" and index is not None and index < len(add):
        return f"Added line {add[index].sku or index + 1}: "
    if kind == "reduce" and index is not None and index < len(reduce):
        return f"Line {reduce[index].line_id}: "
    return ""


def _line_label(field, lines):
    if lines and field.startswith("lines[") and "]" in field:
        index = natural_number(field[6 : field.index("]")])
        if index is not None and index < len(lines):
            return f"Line {lines[index].line_id}: "
    return ""

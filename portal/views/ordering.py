"""Retailer (and rep-assisted) ordering: catalogue, size grids, the core and quick-ship
lists, paste/upload, the cart, review and submit. Every write is a cart service or
order_place; every read is a selector."""

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from inventory.models import SKU, Style
from inventory.parsing import natural_number
from orders.case_selectors import waiting_alert_sku_ids
from orders.exceptions import IdempotencyKeyInFlight, IdempotencyKeyReused, OrderNotAllowed
from orders.models import BackorderPolicy
from orders.selectors import (
    cart_quantities,
    cart_review,
    cart_rows,
    order_for_user,
    quick_list,
    reorder_rows,
    style_size_grids,
    user_can_order,
)
from orders.services import LineRequest
from orders.services.cart import (
    cart_clear,
    cart_line_set,
    cart_lines_add,
    cart_lines_set,
    cart_paste_parse,
    cart_submit,
    cart_upload_parse,
)
from portal.page_cache import figures_cached

LIST_KINDS = {"core": "Core list", "quick-ship": "Quick ship"}


def _account(request):
    account = request.account or None
    if account is None:
        raise Http404("You have no retailer account.")
    return account


def _ordering_account(request):
    """The current account, if the user may order for it; otherwise 403 (viewers)."""
    account = _account(request)
    if not user_can_order(user=request.user, account=account):
        raise PermissionDenied("You can look, but not order, for this account.")
    return account


def _can_order(request) -> bool:
    account = request.account or None
    return account is not None and user_can_order(user=request.user, account=account)


def _error_messages(request, error: ValidationError, *, prefix=""):
    for field, field_messages in error.message_dict.items():
        for message in field_messages:
            messages.error(request, f"{prefix}{field}: {message}" if prefix else message)


def _back(request, fallback):
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(fallback)


def _cart_count(request, account) -> int:
    return sum(cart_quantities(user=request.user, account=account).values())


# --- The size grid (the catalogue page is portal.views.catalogue) ------------------------


def _style_context(request, style, *, errors=None, posted=None):
    account = _account(request)
    can_order = user_can_order(user=request.user, account=account)
    in_cart = cart_quantities(user=request.user, account=account) if can_order else {}
    return {
        "style": style,
        "grids": style_size_grids(style=style, account=account, in_cart=in_cart),
        "can_order": can_order,
        "alerted": waiting_alert_sku_ids(user=request.user, account=account) if can_order else (),
        "cart_pairs": sum(in_cart.values()),
        "errors": errors or {},
        "posted": posted or {},
    }


@login_required
@figures_cached
def style_detail(request, style_number):
    style = get_object_or_404(Style, number=style_number)
    if request.method != "POST":
        return render(request, "portal/ordering/style.html", _style_context(request, style))
    account = _ordering_account(request)
    quantities, posted, unreadable = {}, {}, []
    for name, value in request.POST.items():
        if not name.startswith("qty-"):
            continue
        sku_id = natural_number(name.removeprefix("qty-"))
        if sku_id is None:
            unreadable.append(name)
            continue
        quantities[sku_id] = value
        posted[sku_id] = value
    valid_ids = set(style.skus.filter(pk__in=list(quantities)).values_list("pk", flat=True))
    quantities = {sku_id: value for sku_id, value in quantities.items() if sku_id in valid_ids}
    try:
        if unreadable:
            raise ValidationError({name: ["Not a size of this style."] for name in unreadable})
        pairs = cart_lines_set(user=request.user, account=account, quantities=quantities)
    except ValidationError as error:
        context = _style_context(request, style, errors=error.message_dict, posted=posted)
        template = "portal/ordering/_grids.html" if request.htmx else "portal/ordering/style.html"
        return render(request, template, context, status=400)
    if request.htmx:
        context = _style_context(request, style)
        context["saved"] = f"Cart updated: {pairs} pairs of {style.name} in your cart."
        return render(request, "portal/ordering/_grids.html", context)
    messages.success(request, f"Cart updated: {pairs} pairs of {style.name} in your cart.")
    return redirect("portal:style_detail", style.number)


@login_required
@require_GET
def quick_list_page(request, kind):
    if kind not in LIST_KINDS:
        raise Http404
    account = _account(request)
    can_order = user_can_order(user=request.user, account=account)
    in_cart = cart_quantities(user=request.user, account=account) if can_order else {}
    context = {
        "kind": kind,
        "title": LIST_KINDS[kind],
        "groups": quick_list(kind=kind, account=account, in_cart=in_cart),
        "can_order": can_order,
        "alerted": waiting_alert_sku_ids(user=request.user, account=account) if can_order else (),
        "cart_pairs": sum(in_cart.values()),
    }
    return render(request, "portal/ordering/quick_list.html", context)


@login_required
@require_POST
def cart_add(request):
    """Add lines to the cart: one SKU, a whole size run, reorder lines or pasted lines."""
    account = _ordering_account(request)
    skus = request.POST.getlist("sku")
    quantities = request.POST.getlist("quantity")
    if len(quantities) == 1 and len(skus) > 1:
        quantities = quantities * len(skus)
    lines = [
        LineRequest(sku, quantity)
        for sku, quantity in zip(skus, quantities, strict=False)
        if str(quantity).strip() not in ("", "0")
    ]
    try:
        added = cart_lines_add(
            user=request.user,
            account=account,
            lines=lines,
            from_upload=request.POST.get("origin") == "upload",
        )
    except ValidationError as error:
        messages.error(request, "Nothing was added to the cart:")
        for field, field_messages in error.message_dict.items():
            row = _row_label(field, skus)
            for message in field_messages:
                messages.error(request, f"{row}{message}")
        if request.htmx:
            return render(request, "portal/ordering/_flash.html", status=400)
        return _back(request, "portal:cart")
    text = f"Added {added} item{'s' if added != 1 else ''} to your cart."
    if request.htmx:
        context = {"flash": text, "cart_pairs": _cart_count(request, account)}
        return render(request, "portal/ordering/_flash.html", context)
    messages.success(request, text)
    return _back(request, "portal:cart")


def _row_label(field, skus):
    """'lines[3].sku' -> 'Line 4 (ABC-1): '."""
    if field.startswith("lines[") and "]" in field:
        index = natural_number(field[6 : field.index("]")])
        if index is not None and index < len(skus):
            return f"Line {index + 1} ({skus[index]}): "
    return ""


# --- Reorder, paste and upload -----------------------------------------------------------


@login_required
@require_GET
def reorder(request, number):
    order = order_for_user(user=request.user, number=number)
    if order is None:
        raise Http404
    context = {
        "order": order,
        "rows": reorder_rows(order=order),
        "can_order": _can_order(request),
    }
    return render(request, "portal/ordering/reorder.html", context)


class UploadForm(forms.Form):
    text = forms.CharField(required=False, widget=forms.Textarea)
    file = forms.FileField(required=False)


@login_required
def paste_upload(request):
    account = _account(request)
    can_order = user_can_order(user=request.user, account=account)
    result = None
    if request.method == "POST":
        _ordering_account(request)
        upload = request.FILES.get("file")
        if upload is not None:
            result = cart_upload_parse(data=upload.read(2_000_000))
        else:
            result = cart_paste_parse(text=request.POST.get("text", ""))
        if not result.lines and not result.errors:
            messages.error(request, "Paste some lines or choose a CSV file.")
    context = {
        "result": result,
        "text": request.POST.get("text", ""),
        "can_order": can_order,
    }
    status = 400 if result is not None and not result.lines and result.errors else 200
    return render(request, "portal/ordering/paste.html", context, status=status)


# --- Cart, review, submit ----------------------------------------------------------------


@login_required
@require_GET
def cart(request):
    account = _account(request)
    context = {"rows": cart_rows(user=request.user, account=account)}
    context["can_order"] = user_can_order(user=request.user, account=account)
    context["pairs"] = context["cart_pairs"] = sum(row.quantity for row in context["rows"])
    context["subtotal"] = sum(row.line_total for row in context["rows"])
    return render(request, "portal/ordering/cart.html", context)


@login_required
@require_POST
def cart_line_update(request, sku_id):
    account = _ordering_account(request)
    sku = get_object_or_404(SKU, pk=sku_id)
    try:
        cart_line_set(
            user=request.user, account=account, sku=sku, quantity=request.POST.get("quantity")
        )
    except ValidationError as error:
        _error_messages(request, error, prefix=f"{sku.code} ")
    return redirect("portal:cart")


@login_required
@require_POST
def cart_empty(request):
    account = _ordering_account(request)
    cart_clear(user=request.user, account=account)
    messages.success(request, "Your cart is empty.")
    return redirect("portal:cart")


class SubmitForm(forms.Form):
    po_number = forms.CharField(required=False, max_length=40, label="PO number")
    ship_to = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    requested_ship_date = forms.DateField(required=False)
    cancel_date = forms.DateField(required=False)
    backorders = forms.ChoiceField(
        choices=BackorderPolicy.choices, initial=BackorderPolicy.ALLOW, widget=forms.RadioSelect
    )
    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ship_to"].choices = [
            (ship_to.pk, str(ship_to)) for ship_to in account.ship_tos.all()
        ]


def _review_context(request, account, form):
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    policy = request.GET.get("backorders") or request.POST.get("backorders") or "allow"
    if policy not in BackorderPolicy.values:
        policy = BackorderPolicy.ALLOW
    review = cart_review(
        user=request.user,
        account=account,
        backorder_policy=policy,
        cancel_date=data.get("cancel_date") or _date_param(request.GET.get("cancel_date")),
    )
    return {"review": review, "form": form, "policy": policy, "account": account}


def _date_param(value):
    field = forms.DateField(required=False)
    try:
        return field.clean(value)
    except ValidationError:
        return None


@login_required
@require_GET
def review(request):
    account = _account(request)
    initial = {
        "idempotency_key": uuid.uuid4().hex,
        "backorders": request.GET.get("backorders", BackorderPolicy.ALLOW),
        "ship_to": next((s.pk for s in account.ship_tos.all() if s.is_default), None),
    }
    form = SubmitForm(initial=initial, account=account)
    context = _review_context(request, account, form)
    context["can_order"] = user_can_order(user=request.user, account=account)
    if request.htmx:
        return render(request, "portal/ordering/_review_body.html", context)
    return render(request, "portal/ordering/review.html", context)


@login_required
@require_POST
def submit(request):
    account = _ordering_account(request)
    form = SubmitForm(request.POST, account=account)
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = cart_submit(
                user=request.user,
                account=account,
                po_number=data["po_number"],
                ship_to=data["ship_to"],
                requested_ship_date=data["requested_ship_date"],
                cancel_date=data["cancel_date"],
                backorder_policy=data["backorders"],
                idempotency_key=data["idempotency_key"],
            )
        except OrderNotAllowed as error:
            raise PermissionDenied(str(error)) from error
        except IdempotencyKeyInFlight:
            messages.warning(request, "Your order is being placed; please wait a moment.")
            return redirect("portal:review")
        except IdempotencyKeyReused as error:
            messages.error(
                request, f"Your cart changed after order {error.order.number} was placed."
            )
            return redirect("portal:order_detail", error.order.number)
        except ValidationError as error:
            for field, field_messages in error.message_dict.items():
                target = field if field in form.fields else None
                label = "" if target or field in ("lines", "account") else f"{field}: "
                for message in field_messages:
                    form.add_error(target, f"{label}{message}")
        else:
            verb = "placed" if result.created else "was already placed"
            messages.success(request, f"Order {result.order.number} {verb}. Thank you!")
            return redirect(reverse("portal:order_detail", args=[result.order.number]))
    context = _review_context(request, account, form)
    context["can_order"] = True
    return render(request, "portal/ordering/review.html", context, status=400)

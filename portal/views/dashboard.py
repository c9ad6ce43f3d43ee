"""The retailer's dashboard: everything that needs their attention, on one page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from orders.selectors import user_can_order
from orders.services.cart import cart_lines_add
from orders.services.ordering import LineRequest
from portal.page_cache import figures_cached
from portal.selectors import dashboard_for


@login_required
@require_GET
@figures_cached
def dashboard(request):
    account = request.account or None
    data = dashboard_for(user=request.user, account=account)
    can_order = account is not None and user_can_order(user=request.user, account=account)
    return render(request, "portal/dashboard.html", {"d": data, "can_order": can_order})


def _cart_url():
    try:
        return reverse("portal:cart")
    except NoReverseMatch:
        return reverse("portal:dashboard")


@login_required
@require_POST
def core_reorder(request):
    """One-click reorder of a core-list SKU: adds its usual quantity to the cart."""
    account = request.account or None
    if account is None or not user_can_order(user=request.user, account=account):
        raise PermissionDenied("You cannot order for this account.")
    sku = request.POST.get("sku", "")
    quantity = request.POST.get("quantity", "")
    try:
        cart_lines_add(
            user=request.user, account=account, lines=[LineRequest(sku=sku, quantity=quantity)]
        )
    except ValidationError as error:
        for messages_ in error.message_dict.values():
            for message in messages_:
                messages.error(request, message)
        return redirect("portal:dashboard")
    messages.success(request, f"Added {quantity} pairs of {sku} to your cart.")
    return redirect(_cart_url())

"""The main navigation, rendered once per process for each combination of what it
depends on. Its markup is a pure function of the page it is on, whether the user is a
sales rep, whether they may order for the current account and whether they are its
buyer (a viewer sees neither the cart nor the settings), and the URL prefix, so the dozen
URL reversals and tests behind it need not run again on every page."""

from functools import lru_cache

from django import template
from django.template.loader import render_to_string
from django.urls import get_script_prefix

register = template.Library()


@lru_cache(maxsize=512)  # bounded: the URL prefix comes from the request's environment
def _navigation(script_prefix, here, is_sales_rep, can_order, is_buyer):
    return render_to_string(
        "portal/_nav.html",
        {"here": here, "is_sales_rep": is_sales_rep, "can_order": can_order, "is_buyer": is_buyer},
    )


@register.simple_tag(takes_context=True)
def portal_nav(context):
    request = context.get("request")
    match = request and request.resolver_match
    menu = context.get("account_menu")
    return _navigation(
        get_script_prefix(),
        match.url_name if match else None,
        bool(context["user"].is_sales_rep),
        bool(menu and menu.can_order),
        bool(menu and menu.is_buyer),
    )

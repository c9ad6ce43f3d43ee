"""The main navigation, rendered once per process for each combination of what it
depends on. Its markup is a pure function of the page it is on, whether the user is a
sales rep and whether they have an account to work in (and the URL prefix), so the dozen
URL reversals and tests behind it need not run again on every page."""

from functools import lru_cache

from django import template
from django.template.loader import render_to_string
from django.urls import get_script_prefix

register = template.Library()


@lru_cache(maxsize=512)  # bounded: the URL prefix comes from the request's environment
def _navigation(script_prefix, here, is_sales_rep, has_account):
    return render_to_string(
        "portal/_nav.html",
        {"here": here, "is_sales_rep": is_sales_rep, "has_account": has_account},
    )


@register.simple_tag(takes_context=True)
def portal_nav(context):
    request = context.get("request")
    match = request and request.resolver_match
    return _navigation(
        get_script_prefix(),
        match.url_name if match else None,
        bool(context["user"].is_sales_rep),
        bool(context.get("current_account")),
    )

"""The main navigation, rendered once per process for each combination of what it
depends on. Its markup is a pure function of the page it is on, whether the user is a
sales rep and whether they have an account to work in (and the URL prefix), so the dozen
URL reversals and tests behind it need not run again on every page."""

from django import template
from django.template.loader import render_to_string
from django.urls import get_script_prefix

register = template.Library()

_rendered = {}


@register.simple_tag(takes_context=True)
def portal_nav(context):
    request = context.get("request")
    match = request and request.resolver_match
    key = (
        get_script_prefix(),
        match.url_name if match else None,
        bool(context["user"].is_sales_rep),
        bool(context.get("current_account")),
    )
    if key not in _rendered:
        here, is_sales_rep, has_account = key[1:]
        _rendered[key] = render_to_string(
            "portal/_nav.html",
            {"here": here, "is_sales_rep": is_sales_rep, "has_account": has_account},
        )
    return _rendered[key]

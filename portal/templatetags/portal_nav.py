"""The header and its main navigation (and the frame's asset URLs), each rendered once
per process for each combination of what it shows. Their markup is a pure function of
the values passed to the memoized renders below (the page, the URL prefix, the user's
name and role, the accounts of the header's menu and the current one), all read for the
request from the cache kept under the access version (portal.frame_cache), so a change
of membership, role, account or permission is a new combination on the next request:
nothing here can show what a change took away. The dozen URL reversals and tests behind
them need not run again on every page; the request's CSRF token is put in after (never
kept)."""

from functools import lru_cache

from django import template
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import get_script_prefix
from django.utils.safestring import mark_safe

register = template.Library()

# Stands for the request's CSRF token in a kept header (letters only, as a token is).
CSRF_PLACEHOLDER = "csrfPlaceholderKeptHeaderQx"


@lru_cache(maxsize=512)  # bounded: the URL prefix comes from the request's environment
def _navigation(script_prefix, here, is_sales_rep, can_order, is_buyer):
    return render_to_string(
        "portal/_nav.html",
        {"here": here, "is_sales_rep": is_sales_rep, "can_order": can_order, "is_buyer": is_buyer},
    )


@lru_cache(maxsize=512)  # bounded: one entry a user, page (for a switcher) and prefix at most
def _header(script_prefix, navigation, short_name, accounts, current, full_path):
    current_pk, current_name = current or (None, None)
    return render_to_string(
        "portal/_header.html",
        {
            "signed_in": navigation is not None,
            "navigation": mark_safe(navigation),
            "short_name": short_name,
            "accounts": accounts,
            "current_pk": current_pk,
            "current_name": current_name,
            "full_path": full_path,
            "csrf_token": CSRF_PLACEHOLDER,
        },
    )


@lru_cache(maxsize=64)
def _static_url(script_prefix, path):
    return static(path)


@register.simple_tag
def frame_static(path):
    """{% static %} for the frame's own assets, worked out once per process: the storage's
    URL of a file does not change while the process runs (the manifest is read once)."""
    return _static_url(get_script_prefix(), path)


@register.simple_tag(takes_context=True)
def portal_header(context):
    """The header: the brand, and for a signed-in user the navigation, the account menu
    (a switcher when there are several), their name and the sign-out form."""
    user = context.get("user")  # none in a page rendered without the request (500.html)
    if user is None or not user.is_authenticated:
        return _header(get_script_prefix(), None, "", (), None, "")
    request = context["request"]
    match = request.resolver_match
    menu = context.get("account_menu")
    accounts = tuple((a.pk, a.name) for a in menu.accounts) if menu else ()
    current = menu and menu.current
    navigation = _navigation(
        get_script_prefix(),
        match.url_name if match else None,
        bool(user.is_sales_rep),
        bool(menu and menu.can_order),
        bool(menu and menu.is_buyer),
    )
    header = _header(
        get_script_prefix(),
        navigation,
        user.get_short_name(),
        accounts,
        (current.pk, current.name) if current else None,
        # only a switcher sends the user back to the page they were on
        request.get_full_path() if len(accounts) > 1 else "",
    )
    return mark_safe(header.replace(CSRF_PLACEHOLDER, str(context["csrf_token"])))

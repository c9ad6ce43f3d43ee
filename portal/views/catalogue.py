"""The catalogue page: style cards (or a list) filtered by facets with their counts, at
the account's prices. The filters live in the URL, so a filtered catalogue can be
shared; htmx swaps the facets and results without a full reload. A bad filter value is
ignored and said so, never an error page."""

import hashlib
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.shortcuts import render
from django.views.decorators.http import require_GET

from inventory.facets import CatalogueFilter, CountKeys, facet_counts
from inventory.models import SKU
from inventory.pricing import priced
from inventory.selectors import catalogue_page
from orders import rules
from orders.line_sheets import line_sheet_scope
from orders.pricing import account_price_list
from portal.page_cache import count_stamps, figures_cached

VIEWS = ("grid", "list")


@login_required
@require_GET
@figures_cached
def catalogue(request):
    account = request.account or None
    terms = rules.current_terms()
    price_list = account_price_list(account=account)
    skus = priced(SKU.objects.active(), price_list)
    filterset = CatalogueFilter(
        request.GET, skus, ship_days=(terms.processing_days, terms.receiving_days)
    )
    ignored = (
        [
            f"{filterset.form.fields[name].label or name}: {' '.join(messages)}"
            for name, messages in filterset.form.errors.items()
            if name in filterset.form.fields
        ]
        if not filterset.is_valid()
        else []
    )
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else "grid"
    context = {
        "filter": filterset,
        "facets": facet_counts(filterset, cache_keys=_count_keys(request, price_list)),
        "page": catalogue_page(skus=filterset.qs, page=request.GET.get("page", 1)),
        "ignored": ignored,
        "view": view,
        "query": _query_without_page(request),
        # One category and/or one season chosen: its line sheet; else the whole catalogue's.
        "line_sheet": _line_sheet_scope(request),
    }
    template = "portal/catalogue/_body.html" if request.htmx else "portal/catalogue/page.html"
    return render(request, template, context)


def _line_sheet_scope(request) -> dict:
    scope = {}
    for name in ("season", "category"):
        if len(values := request.GET.getlist(name)) == 1:
            scope[name] = values[0]
    return {"query": urlencode(scope), "scope": line_sheet_scope(**scope)}


def _count_keys(request, price_list) -> CountKeys | None:
    """The filters asked for (not the page or the view), the price list, the database,
    and the versions the counts are exact under (page_cache.count_stamps)."""
    stamps = count_stamps()
    if stamps is None:
        return None
    params = sorted((k, tuple(v)) for k, v in request.GET.lists() if k not in ("page", "view"))
    key = (connection.settings_dict["NAME"], params, price_list.pk if price_list else None)
    catalogue, stock = (
        "catalogue-facets:" + hashlib.sha256(repr((key, part, stamp)).encode()).hexdigest()
        for part, stamp in zip(("catalogue", "stock"), stamps, strict=True)
    )
    return CountKeys(catalogue=catalogue, stock=stock)


def _query_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()

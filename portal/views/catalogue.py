"""The catalogue page: style cards (or a list) filtered by facets with their counts, at
the account's prices. The filters live in the URL, so a filtered catalogue can be
shared; htmx swaps the facets and results without a full reload. A bad filter value is
ignored and said so, never an error page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from inventory.facets import CatalogueFilter, facet_counts
from inventory.models import SKU
from inventory.pricing import priced
from inventory.selectors import catalogue_page
from orders import rules
from orders.pricing import account_price_list

VIEWS = ("grid", "list")


@login_required
@require_GET
def catalogue(request):
    account = request.account or None
    terms = rules.current_terms()
    skus = priced(SKU.objects.active(), account_price_list(account=account))
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
        "facets": facet_counts(filterset),
        "page": catalogue_page(skus=filterset.qs, page=request.GET.get("page", 1)),
        "ignored": ignored,
        "view": view,
        "query": _query_without_page(request),
    }
    template = "portal/catalogue/_body.html" if request.htmx else "portal/catalogue/page.html"
    return render(request, template, context)


def _query_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()

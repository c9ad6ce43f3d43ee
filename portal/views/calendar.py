"""The production calendar (inbound runs by week) and a style's future availability."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from inventory.models import Style
from portal.selectors import production_calendar, style_availability

MAX_FILTER_LENGTH = 60


def _filter_value(request, name):
    return request.GET.get(name, "").strip()[:MAX_FILTER_LENGTH]


@login_required
@require_GET
def calendar(request):
    data = production_calendar(
        category=_filter_value(request, "category"), style=_filter_value(request, "style")
    )
    template = "portal/calendar/_grid.html" if request.htmx else "portal/calendar/calendar.html"
    return render(request, template, {"cal": data})


@login_required
@require_GET
def availability(request, style_number: str):
    """The future-availability chart of one style, as a fragment for the style page."""
    style = get_object_or_404(Style, number__iexact=style_number)
    return render(
        request,
        "portal/_future_availability.html",
        {"availability": style_availability(style=style)},
    )

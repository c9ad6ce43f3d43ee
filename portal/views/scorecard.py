"""Delivery scorecard: the account's fill rate and punctuality next to the brand's."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.selectors import scorecard as scorecard_for

DAYS = 90


@login_required
@require_GET
def scorecard(request):
    account = request.account or None
    return render(
        request,
        "portal/scorecard/scorecard.html",
        {"sc": scorecard_for(account=account, days=DAYS)},
    )

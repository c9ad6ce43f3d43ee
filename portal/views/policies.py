"""The published policies, rendered from the commercial terms the system enforces."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.selectors import policies_for


@login_required
@require_GET
def policies(request):
    account = request.account or None
    return render(
        request,
        "portal/policies/policies.html",
        {"p": policies_for(account=account), "brand": policies_for(account=None)},
    )

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from orders.selectors import account_for_user
from portal.middleware import SESSION_ACCOUNT_KEY


@login_required
@require_POST
def account_switch(request):
    """Work in another of the user's accounts."""
    account = account_for_user(user=request.user, account_id=request.POST.get("account"))
    if account is None:
        raise Http404("No such account.")
    request.session[SESSION_ACCOUNT_KEY] = account.pk
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("portal:dashboard")

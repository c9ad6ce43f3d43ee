"""The signed-in user's own page: who they are, their accounts and their API tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from orders.selectors import accounts_visible_to
from portal.tokens import TokenRefused, api_token_create, api_token_revoke, api_tokens_for


def _page(request, *, new_key=None, status=200):
    context = {
        "accounts": accounts_visible_to(user=request.user).order_by("name"),
        "tokens": list(api_tokens_for(user=request.user)),
        "new_key": new_key,
    }
    return render(request, "portal/profile/profile.html", context, status=status)


@login_required
def profile(request):
    return _page(request)


@login_required
@require_POST
def api_token_new(request):
    """Create a token and show its key once, in this response (it is never stored)."""
    try:
        _, key = api_token_create(user=request.user)
    except TokenRefused:
        messages.error(request, "Your user cannot hold API tokens.")
        return redirect("portal:profile")
    response = _page(request, new_key=key)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_token_delete(request):
    if api_token_revoke(user=request.user, digest=request.POST.get("token", "")):
        messages.success(request, "The token was revoked; requests using it are now refused.")
    else:
        messages.error(request, "That token does not exist (or was already revoked).")
    return redirect("portal:profile")

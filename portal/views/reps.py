"""A sales rep's own accounts: their open orders and backorders, and ordering on their
behalf (the account becomes the current one via account_switch, then the ordering
pages place the order with source "rep")."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET

from orders.selectors import backordered_lines, rep_account, rep_accounts
from portal.selectors import rep_account_page


def _rep_required(request):
    if not request.user.is_sales_rep:
        raise Http404("Not a sales rep.")


def _ordering_url():
    for name in ("portal:catalogue", "portal:catalog"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return reverse("portal:dashboard")


@login_required
@require_GET
def rep_accounts_list(request):
    _rep_required(request)
    accounts = list(rep_accounts(rep=request.user))
    backorders, line_count, pairs = backordered_lines(accounts=accounts, limit=10)
    return render(
        request,
        "portal/reps/accounts.html",
        {
            "accounts": accounts,
            "backorders": backorders,
            "backordered_line_count": line_count,
            "backordered_pairs": pairs,
            "ordering_url": _ordering_url(),
        },
    )


@login_required
@require_GET
def rep_account_detail(request, account_id: int):
    _rep_required(request)
    account = rep_account(rep=request.user, account_id=account_id)
    if account is None:
        raise Http404("No such account.")
    context = rep_account_page(rep=request.user, account=account)
    context["ordering_url"] = _ordering_url()
    return render(request, "portal/reps/account.html", context)

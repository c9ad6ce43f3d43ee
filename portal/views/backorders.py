"""The retailer's backorders: the list with runs, expected dates, windows and pending
decisions; the decision forms (one line, or every waiting line on one page); and the
signed links from the decision emails (GET only shows a page; only its POST decides)."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backorders import selectors
from backorders.exceptions import (
    AlreadyDecided,
    AlternativeUnavailable,
    BackorderInputError,
    DecisionNotAllowed,
    NothingBackordered,
)
from backorders.models import DecisionAction
from backorders.services import backorder_decide
from backorders.services.common import alternative_skus, sku_description
from backorders.services.decisions import DecisionAnswer, backorder_decisions_answer
from backorders.services.links import decision_token_read, decisions_token_read
from inventory.selectors import ship_date_from_stock
from orders.selectors import user_can_order
from portal.page_cache import figures_cached


@login_required
@require_GET
@figures_cached
def backorder_list(request):
    account = request.account or None
    if account is None:
        raise Http404("You have no retailer account.")
    rows = selectors.open_backorders(account=account)
    context = {
        "rows": rows,
        "waiting": sum(1 for row in rows if row.decision),
        "can_decide": user_can_order(user=request.user, account=account),
        "actions": DecisionAction,
    }
    return render(request, "portal/backorders/list.html", context)


def _error_text(exc):
    if hasattr(exc, "message_dict"):
        return " ".join(m for ms in exc.message_dict.values() for m in ms)
    return str(exc)


@login_required
@require_POST
def backorder_decide_view(request, line_id):
    line = selectors.line_for_user(user=request.user, line_id=line_id)
    if line is None:
        raise Http404("No such order line.")
    action = request.POST.get("action", "")
    try:
        result = backorder_decide(
            line=line, action=action, sku=request.POST.get("sku") or None, user=request.user
        )
    except (BackorderInputError, AlternativeUnavailable, NothingBackordered) as exc:
        messages.error(request, f"{line.sku.code}: {_error_text(exc)}")
    except DecisionNotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _done_text(result))
    return redirect("portal:backorders")


def _done_text(result):
    code = result.line.sku.code
    if result.action == DecisionAction.KEEP:
        return f"{code}: kept; we hold it until its new date."
    if result.action == DecisionAction.CANCEL:
        return f"{code}: the backordered pairs are cancelled."
    return f"{code}: switched to {result.new_line.sku.code}, allocated now."


@require_http_methods(["GET", "POST"])
def decision_link(request, token):
    """The page a decision email's button opens. The token names the request and the
    user it was sent to; a different signed-in user gets 404."""
    try:
        request_id, user_id = decision_token_read(token)
    except signing.SignatureExpired:
        return render(request, "portal/backorders/link_problem.html", {"expired": True}, status=410)
    except signing.BadSignature:
        return render(
            request, "portal/backorders/link_problem.html", {"expired": False}, status=400
        )
    if request.user.is_authenticated and request.user.pk != user_id:
        raise Http404("This link was sent to someone else.")
    decision = selectors.decision_request_for_link(request_id=request_id)
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if decision is None or user is None:
        raise Http404("No such decision.")
    line = decision.line
    if not user_can_order(user=user, account=line.order.account):
        raise Http404("No such decision.")
    context = {"decision": decision, "line": line, "token": token}
    if not decision.is_pending:
        return render(request, "portal/backorders/decision_done.html", {**context, "already": True})
    chosen = request.POST.get("action") if request.method == "POST" else request.GET.get("action")
    context["chosen"] = chosen if chosen in DecisionAction.values else ""
    context["alternatives"] = _alternatives(line)
    context["actions"] = DecisionAction
    if request.method == "GET":
        return render(request, "portal/backorders/decision_confirm.html", context)
    try:
        result = backorder_decide(
            line=line,
            action=request.POST.get("action", ""),
            sku=request.POST.get("sku") or None,
            user=user,
            decision_request=decision,
        )
    except AlreadyDecided as exc:
        context["decision"] = exc.request
        return render(request, "portal/backorders/decision_done.html", {**context, "already": True})
    except NothingBackordered as exc:
        context["error"] = str(exc)
        return render(request, "portal/backorders/decision_confirm.html", context, status=409)
    except AlternativeUnavailable as exc:
        context["error"] = str(exc)
        context["alternatives"] = _alternatives(line)
        return render(request, "portal/backorders/decision_confirm.html", context, status=409)
    except BackorderInputError as exc:
        context["error"] = _error_text(exc)
        return render(request, "portal/backorders/decision_confirm.html", context, status=400)
    context.update(decision=result.request, done_text=_done_text(result), already=False)
    return render(request, "portal/backorders/decision_done.html", context)


def _alternatives(line):
    ships_by = ship_date_from_stock(terms=line.order.terms)
    return [
        {"sku": sku.code, "description": sku_description(sku), "ships_by": ships_by}
        for sku in alternative_skus(lines=[line])[line.pk]
    ]


# --- Every waiting decision on one page ---------------------------------------------

ALL_CHOICES = (DecisionAction.KEEP, DecisionAction.CANCEL)


@dataclass(frozen=True)
class DecisionItem:
    row: object  # backorders.selectors.DecisionRow
    choice: str  # the radio value chosen ("" leaves the line open)
    errors: list[str]


@login_required
@require_http_methods(["GET", "POST"])
def decisions_page(request):
    """The account's waiting decisions, answered on one page. Viewers see them, without
    the form: their buyers are the ones asked."""
    account = request.account or None
    if account is None:
        raise Http404("You have no retailer account.")
    rows = selectors.decisions_to_answer(account_id=account.pk)
    can_decide = user_can_order(user=request.user, account=account)
    context = {"account": account}
    if request.method == "POST" and can_decide:
        response = _decisions_answer(request, user=request.user, rows=rows, context=context)
        if response is None:
            return redirect("portal:backorders")
        return response
    return _decisions_render(request, rows=rows, can_decide=can_decide, context=context)


@require_http_methods(["GET", "POST"])
def decisions_link(request, token):
    """The page a decision email opens: every line of that ETA change for that account,
    for the user it was sent to (another signed-in user gets 404)."""
    try:
        eta_change_id, account_id, user_id = decisions_token_read(token)
    except signing.SignatureExpired:
        return render(request, "portal/backorders/link_problem.html", {"expired": True}, status=410)
    except signing.BadSignature:
        return render(
            request, "portal/backorders/link_problem.html", {"expired": False}, status=400
        )
    if request.user.is_authenticated and request.user.pk != user_id:
        raise Http404("This link was sent to someone else.")
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    account = selectors.account_for_decisions(account_id=account_id)
    if user is None or account is None or not user_can_order(user=user, account=account):
        raise Http404("No such decision.")
    rows = selectors.decisions_to_answer(account_id=account.pk, eta_change_id=eta_change_id)
    context = {"account": account, "signed": True}
    if request.method == "POST":
        response = _decisions_answer(request, user=user, rows=rows, context=context)
        if response is None:
            return render(request, "portal/backorders/decisions_done.html", context)
        return response
    return _decisions_render(request, rows=rows, can_decide=True, context=context)


def _decisions_render(request, *, rows, can_decide, context, errors=None, status=200):
    """The page; after a refused POST, each row keeps its choice and shows its error."""
    posted = request.POST if request.method == "POST" else {}
    errors = errors or {}
    chosen_all = posted.get("all") if posted else request.GET.get("all")
    items = [
        DecisionItem(
            row=row,
            choice=posted.get(f"choice-{row.request.pk}", ""),
            errors=errors.get(str(row.request.pk), []),
        )
        for row in rows
    ]
    return render(
        request,
        "portal/backorders/decisions.html",
        {
            **context,
            "items": items,
            "can_decide": can_decide,
            "chosen_all": chosen_all if chosen_all in ALL_CHOICES else "",
            "form_errors": errors.get("non_field_errors", []),
        },
        status=status,
    )


def _decisions_answer(request, *, user, rows, context):
    """Apply the posted choices; None when done (a message says what changed), else the
    page again with each row's error (nothing changed)."""
    apply_all = request.POST.get("all", "")
    answers = []
    for row in rows:
        choice = request.POST.get(f"choice-{row.request.pk}", "") or apply_all
        if not choice:
            continue  # left for later
        action, _, sku = choice.partition(":")
        answers.append(DecisionAnswer(request=row.request, action=action, sku=sku or None))
    try:
        results = backorder_decisions_answer(answers=answers, user=user)
    except BackorderInputError as exc:
        messages.error(request, "Nothing was changed: see the lines marked below.")
        return _decisions_render(
            request,
            rows=rows,
            can_decide=True,
            context=context,
            errors=exc.message_dict,
            status=400,
        )
    except DecisionNotAllowed as exc:
        raise Http404(str(exc)) from exc
    for result in results:
        messages.success(request, _done_text(result))
    return None

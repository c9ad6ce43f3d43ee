"""The account's backorder preferences, for its buyers: hold backorders (the brand's
window or a number of days) or not at all, and what an unanswered late-date question
does. Written through backorders.services.account_backorder_settings_set."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from backorders.exceptions import BackorderInputError, DecisionNotAllowed
from backorders.services import account_backorder_settings_set
from backorders.services.accounts import MAX_WINDOW_DAYS
from orders.models import DecisionDefault, Membership, MembershipRole
from orders.rules import current_terms


class BackorderSettingsForm(forms.Form):
    mode = forms.ChoiceField(
        label="Backorders",
        widget=forms.RadioSelect,
        choices=[
            ("default", "Hold backorders for the standard window"),
            ("days", "Hold backorders for this many days"),
            ("none", "No backorders: ship what is in stock, cancel the rest"),
        ],
    )
    window_days = forms.IntegerField(
        label="Days to hold a backorder", required=False, min_value=1, max_value=MAX_WINDOW_DAYS
    )
    decision_default = forms.ChoiceField(
        label="If we don't hear back about a later date",
        widget=forms.RadioSelect,
        choices=DecisionDefault.choices,
    )

    def clean(self):
        data = super().clean()
        if data.get("mode") == "days" and not data.get("window_days"):
            self.add_error("window_days", "Enter the number of days.")
        return data


@login_required
@require_http_methods(["GET", "POST"])
def account_settings(request):
    account = request.account or None
    if account is None:
        raise Http404("You have no retailer account.")
    if not Membership.objects.filter(
        user=request.user, account=account, role=MembershipRole.BUYER
    ).exists():
        raise PermissionDenied("Only the account's buyers may change its settings.")
    terms = current_terms()
    if not account.accepts_backorders:
        mode = "none"
    else:
        mode = "days" if account.backorder_window_days is not None else "default"
    initial = {
        "mode": mode,
        "window_days": account.backorder_window_days,
        "decision_default": account.decision_default,
    }
    form = BackorderSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account_backorder_settings_set(
                account=account,
                user=request.user,
                accepts_backorders=data["mode"] != "none",
                window_days=data["window_days"] if data["mode"] == "days" else None,
                decision_default=data["decision_default"],
            )
        except BackorderInputError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        except DecisionNotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        else:
            messages.success(request, "Backorder settings saved.")
            return redirect("portal:account_settings")
    context = {"form": form, "account": account, "default_days": terms.backorder_window_days}
    return render(
        request, "portal/account_settings.html", context, status=400 if form.errors else 200
    )

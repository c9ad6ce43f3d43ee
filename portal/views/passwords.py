"""Asking for a password reset: the same answer, and the same work, for every address;
rate-limited per client address and per email address. The email goes through the
outbox (portal.services.password_reset_request) with its link built from SITE_URL.
Changing or resetting a password tells the user by email."""

from axes.helpers import get_client_ip_address
from django import forms
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from portal.ratelimits import limits_allow, password_reset_limits
from portal.services import password_changed_notify, password_reset_request

TEMPLATE = "registration/password_reset_form.html"


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(max_length=254)


@require_http_methods(["GET", "POST"])
def password_reset(request):
    form = PasswordResetRequestForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        return render(request, TEMPLATE, {"form": form}, status=400 if form.errors else 200)
    email = form.cleaned_data["email"]
    limits = password_reset_limits(email=email, ip=get_client_ip_address(request))
    wait = limits_allow(limits, request)
    if wait is not None:
        response = render(
            request, TEMPLATE, {"form": form, "retry_minutes": -(-wait // 60)}, status=429
        )
        response["Retry-After"] = str(wait)
        return response
    password_reset_request(email=email)
    return redirect("password_reset_done")


class PasswordChangeView(auth_views.PasswordChangeView):
    def form_valid(self, form):
        response = super().form_valid(form)
        password_changed_notify(user=form.user)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        password_changed_notify(user=form.user)
        return response

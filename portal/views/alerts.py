"""Back-in-stock alerts: asked for from a style's size grid or the core list for a size
with nothing available, listed (and cancelled) on their own page. The write is
orders.services.stock_alerts; the check and the message happen there too."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from orders.case_selectors import stock_alerts_for
from orders.exceptions import OrderNotAllowed
from orders.services.stock_alerts import stock_alert_cancel, stock_alert_request


def _back(request):
    """Back to the page the alert was asked from: a path on this site, else the list."""
    target = request.POST.get("next", "")
    if (
        target.startswith("/")
        and target.isprintable()
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    ):
        return HttpResponseRedirect(target)
    return redirect("portal:stock_alerts")


@login_required
@require_POST
def stock_alert_new(request):
    account = request.account
    if not account:
        raise Http404("No account.")
    code = request.POST.get("alert_sku") or request.POST.get("sku", "")
    try:
        alert = stock_alert_request(user=request.user, account=account, sku_code=code)
    except OrderNotAllowed as error:
        raise PermissionDenied(str(error)) from error
    except ValidationError as error:
        text = " ".join(m for ms in error.message_dict.values() for m in ms)
        if request.htmx:
            return HttpResponse(
                format_html('<span class="badge bad" role="alert">{}</span>', text), status=400
            )
        messages.error(request, text)
        return _back(request)
    text = f"We will email you once when {alert.sku.code} is available again."
    if request.htmx:
        # Short, in a grid cell; the whole sentence for screen readers.
        return HttpResponse(
            format_html(
                '<span class="badge ok" role="status">Alert set'
                '<span class="visually-hidden">: {}</span></span>',
                text,
            )
        )
    messages.success(request, text)
    return _back(request)


@login_required
@require_GET
def stock_alert_list(request):
    account = request.account
    if not account:
        raise Http404("No account.")
    alerts = list(stock_alerts_for(user=request.user, account=account)[:100])
    return render(request, "portal/alerts/list.html", {"alerts": alerts, "account": account})


@login_required
@require_POST
def stock_alert_cancel_view(request, alert_id):
    if not stock_alert_cancel(user=request.user, alert_id=alert_id):
        raise Http404("No such alert.")
    messages.success(request, "The alert is cancelled.")
    return redirect("portal:stock_alerts")

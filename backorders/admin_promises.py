"""The promise report page in the admin (backorders.promise_report on live data)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone

from backorders.models import PromiseReport
from backorders.promise_report import figure_rows, goals_check, live_figures, promise_charts
from orders.admin.common import ReadOnlyModelAdmin

REPORT_DAYS = 90
COLUMNS = (
    ("promises_kept", "Promises kept", "share"),
    ("backorder_promises_kept", "Backorder promises kept", "share"),
    ("slips_told_early", "Slips told before the date passed", "share"),
    ("median_warning_days", "Median days of warning", "number"),
    ("pair_days_past_window", "Pair-days past window", "number"),
    ("pair_days_free_while_waiting", "Pair-days free while backorders wait", "number"),
    ("fill_rate", "Fill rate", "share"),
    ("pairs_cancelled_by_brand", "Pairs cancelled by the brand", "number"),
    ("pairs_not_had_at_placement", "Pairs that could not be had at placement", "number"),
    ("pairs_cancelled_by_store", "Pairs cancelled by the store", "number"),
    ("messages_per_account_week", "Backorder messages per account-week", "number"),
)


@admin.register(PromiseReport)
class PromiseReportAdmin(ReadOnlyModelAdmin):
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("inventory.view_inboundrun")

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        figures = live_figures(today=timezone.localdate(), days=REPORT_DAYS)
        modes = {"live": figures}
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Promise report, last {REPORT_DAYS} days",
            "days": REPORT_DAYS,
            "modes": ["Last 90 days"],
            "rows": figure_rows(columns=COLUMNS, modes=modes),
            "goals": goals_check(figures),
            "records": figures["factory_records"],
            "charts": promise_charts(modes=modes),
        }
        return TemplateResponse(request, "admin/backorders/promise_report.html", context)

"""The case log and the credit approvals of customer service."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from orders.admin.claims import CaseTimelineInline, ClaimInline
from orders.admin.common import ReadOnlyInline
from orders.models import AuditEvent, Case, CaseStatus, CreditApproval
from orders.services import service_desk


class CaseActionInline(ReadOnlyInline):
    model = AuditEvent
    fk_name = "case"
    fields = ["created_at", "actor", "action", "object_repr", "changes", "reason"]
    readonly_fields = fields
    verbose_name = "action taken"
    verbose_name_plural = "actions taken on this case"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class CaseCreditInline(ReadOnlyInline):
    model = CreditApproval
    fields = ["requested_at", "invoice", "amount", "reason", "status", "requested_by"]
    readonly_fields = fields
    verbose_name_plural = "credits on this case"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice", "requested_by")


class CaseForm(forms.ModelForm):
    class Meta:
        model = Case
        fields = ["account", "order", "reason", "channel", "summary", "resolution"]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    form = CaseForm
    list_display = [
        "__str__",
        "account",
        "order",
        "reason",
        "channel",
        "status",
        "opened_by",
        "opened_at",
        "time_to_resolve_display",
    ]
    list_filter = ["status", "reason", "channel"]
    search_fields = ["=id", "account__name", "=account__number", "=order__number", "summary"]
    list_select_related = ["account", "order", "opened_by"]
    raw_id_fields = ["account", "order"]
    show_full_result_count = False
    inlines = [ClaimInline, CaseTimelineInline, CaseCreditInline, CaseActionInline]

    @admin.display(description="Time to resolve")
    def time_to_resolve_display(self, obj):
        delta = obj.time_to_resolve
        if delta is None:
            return "open"
        hours, rest = divmod(int(delta.total_seconds()), 3600)
        return (
            f"{hours // 24}d {hours % 24}h {rest // 60}m"
            if hours >= 24
            else (f"{hours}h {rest // 60}m")
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["status"]
        fixed = [
            "account",
            "order",
            "reason",
            "channel",
            "summary",
            "status",
            "opened_by",
            "opened_at",
            "resolved_by",
            "resolved_at",
            "time_to_resolve_display",
        ]
        return [*fixed, "resolution"] if obj.status == CaseStatus.RESOLVED else fixed

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["account", "order", "reason", "channel", "summary"]
        return [*self.get_readonly_fields(request, obj), "resolution"][:12]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            if not change:
                case = service_desk.case_open(
                    account=obj.account,
                    order=obj.order,
                    reason=obj.reason,
                    channel=obj.channel,
                    summary=obj.summary,
                    user=request.user,
                )
            elif form.cleaned_data.get("resolution", "").strip():
                case = service_desk.case_resolve(
                    case=obj, resolution=form.cleaned_data["resolution"], user=request.user
                )
            else:
                return
        except service_desk.StaffNotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        obj.pk = case.pk
        obj.status = case.status

    def response_change(self, request, obj):
        if obj.status == CaseStatus.RESOLVED:
            self.message_user(request, f"{obj} resolved.", messages.SUCCESS)
        return super().response_change(request, obj)


class DecisionForm(forms.Form):
    note = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea({"rows": 3}),
        help_text="Required when rejecting; told to the requester.",
    )


@admin.register(CreditApproval)
class CreditApprovalAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "case",
        "invoice",
        "amount",
        "reason",
        "status",
        "requested_by",
        "requested_at",
        "decided_by",
    ]
    list_filter = ["status", "needed_approval", "reason"]
    search_fields = ["=invoice__number", "=case__id", "case__account__name"]
    list_select_related = ["case", "invoice", "requested_by", "decided_by"]
    show_full_result_count = False
    change_form_template = "admin/orders/creditapproval/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in CreditApproval._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<int:object_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="orders_creditapproval_decide",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        extra_context["can_decide"] = request.user.has_perm("orders.decide_creditapproval")
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def decide_view(self, request, object_id):
        approval = get_object_or_404(
            CreditApproval.objects.select_related("case__account", "invoice", "requested_by"),
            pk=object_id,
        )
        if not self.has_view_permission(request, approval):
            raise PermissionDenied
        form = DecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            approve = "_approve" in request.POST
            try:
                decided = service_desk.credit_approval_decide(
                    approval=approval,
                    user=request.user,
                    approve=approve,
                    note=form.cleaned_data["note"],
                )
            except service_desk.StaffNotAllowed as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                for key, problems in exc.message_dict.items():
                    for problem in problems:
                        form.add_error("note" if key == "note" else None, problem)
            else:
                text = (
                    f"Approved: credit memo {decided.credit_memo.number} issued."
                    if approve
                    else "Rejected."
                )
                self.message_user(request, text, messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:orders_creditapproval_change", args=[approval.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Decide credit request {approval.pk}",
            "approval": approval,
            "form": form,
            "opts": self.opts,
            "case_total": service_desk.case_credit_total(case=approval.case),
        }
        return TemplateResponse(request, "admin/orders/creditapproval/decide.html", context)

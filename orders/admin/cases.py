"""The case log and the credit approvals of customer service."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from orders.admin.claims import ClaimInline
from orders.admin.common import ReadOnlyInline, ReadOnlyModelAdmin
from orders.admin.order_actions import ActionDone, OrderAction, action_run, order_action
from orders.audit_sentences import audit_sentence
from orders.models import AuditEvent, Case, CaseEntry, CaseOutcome, CaseStatus, CreditApproval
from orders.rules import current_terms
from orders.services import service_desk
from orders.services.authority import authority_for


class CaseActionInline(ReadOnlyInline):
    model = AuditEvent
    fk_name = "case"
    fields = ["created_at", "what_happened"]
    readonly_fields = fields
    verbose_name = "action taken"
    verbose_name_plural = "actions taken on this case"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @admin.display(description="What happened")
    def what_happened(self, event):
        return audit_sentence(event)


class CaseCreditInline(ReadOnlyInline):
    model = CreditApproval
    fields = ["requested_at", "kind", "invoice", "amount", "reason", "status", "requested_by"]
    readonly_fields = fields
    verbose_name_plural = "credits and replacements on this case"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice", "requested_by")


class CaseEntryInline(ReadOnlyInline):
    """The timeline the store sees (internal notes are marked)."""

    model = CaseEntry
    fields = ["created_at", "side", "kind", "author", "body", "internal"]
    readonly_fields = fields
    verbose_name_plural = "timeline"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


class NoFaultForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea({"rows": 4}),
        help_text="What was checked and why nothing is owed; the store and the rep read it.",
    )

    def chosen_lines(self):
        return []

    def apply_service_errors(self, error, *, row_fields=()):
        for problems in error.message_dict.values():
            for problem in problems:
                self.add_error("reason", problem)


# How a case is resolved from its page: slug -> (button, outcome). Credits, replacements
# and returns run the order page's action on the case's order, so the same form and the
# same authority apply; "no fault found" only needs the reason.
CASE_RESOLUTIONS = {
    "credit": ("Credit memo", CaseOutcome.CREDIT),
    "replacement": ("Replacement shipment", CaseOutcome.REPLACEMENT),
    "return": ("Prepaid return label", CaseOutcome.RETURN),
    "no_fault": ("No fault found", CaseOutcome.NO_FAULT),
}


def _no_fault(form, request, order):
    return ActionDone(f"No fault found: {form.cleaned_data['reason'].strip()}")


NO_FAULT = OrderAction(
    slug="no_fault",
    title="No fault found",
    form=NoFaultForm,
    handler=_no_fault,
    permission="orders.change_case",
    position=0,
    query_initial=(),
)


class CaseForm(forms.ModelForm):
    class Meta:
        model = Case
        fields = ["account", "order", "reason", "channel", "summary", "owner", "resolution"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "owner" in self.fields:
            self.fields["owner"].queryset = get_user_model().objects.filter(
                is_staff=True, is_active=True
            )


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
    inlines = [ClaimInline, CaseEntryInline, CaseCreditInline, CaseActionInline]
    change_form_template = "admin/orders/case/change_form.html"

    def get_urls(self):
        return [
            path(
                "<int:object_id>/resolve/<slug:how>/",
                self.admin_site.admin_view(self.resolve_view),
                name="orders_case_resolve",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        case = self.get_object(request, object_id)
        if case is not None and case.status == CaseStatus.OPEN:
            extra_context["resolutions"] = [
                (slug, button)
                for slug, (button, _) in CASE_RESOLUTIONS.items()
                if self._resolution_allowed(request, case, slug)
            ]
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def _resolution(self, slug):
        return NO_FAULT if slug == "no_fault" else order_action(slug)

    def _resolution_allowed(self, request, case, slug):
        action = self._resolution(slug)
        return (
            request.user.has_perm("orders.change_case")
            and request.user.has_perm(action.permission)
            and (slug == "no_fault" or case.order_id is not None)
        )

    def resolve_view(self, request, object_id, how):
        """One touch from the case: the resolution, then the case closes with it and the
        store and the rep are told, the document linked."""
        case = get_object_or_404(
            Case.objects.select_related("account", "order__account", "order__ship_to"),
            pk=object_id,
        )
        if how not in CASE_RESOLUTIONS:
            raise Http404("No such resolution.")
        if not self.has_view_permission(request, case) or not self._resolution_allowed(
            request, case, how
        ):
            raise PermissionDenied
        case_url = reverse("admin:orders_case_change", args=[case.pk])
        if case.status != CaseStatus.OPEN:
            self.message_user(request, f"{case} is resolved already.", messages.ERROR)
            return HttpResponseRedirect(case_url)
        action, (button, outcome) = self._resolution(how), CASE_RESOLUTIONS[how]
        order = case.order
        if how == "no_fault":
            form = NoFaultForm(request.POST or None)
        else:
            # The case is this one, whatever the request says.
            data = None
            if request.method == "POST":
                data = request.POST.copy()
                data["case"] = str(case.pk)
            form = action.form(data, order=order, initial={"case": case.pk})
            form.fields["case"].queryset = Case.objects.filter(pk=case.pk)
            form.fields["case"].widget = forms.HiddenInput()
        if request.method == "POST" and form.is_valid():
            done = action_run(action, form=form, request=request, order=order)
            if done is not None and not done.done:
                self.message_user(request, done.message, done.level)
                return HttpResponseRedirect(case_url)
            if done is not None:
                service_desk.case_resolve(
                    case=case,
                    resolution=done.message,
                    outcome=outcome,
                    user=request.user,
                    document_label=done.document_label,
                    document_url=done.document_url,
                )
                self.message_user(
                    request, f"{done.message} {case} is resolved; the store and the rep are told."
                )
                return HttpResponseRedirect(case_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{button}: {case}",
            "submit_label": f"Resolve with: {button.lower()}",
            "case": case,
            "order": order,
            "form": form,
            "line_fields": [form[name] for name, _ in getattr(form, "line_fields", [])],
            "opts": self.opts,
            "action": how,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/orders/order/service_action.html", context)

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
        fields = [*self.get_readonly_fields(request, obj), "owner"]
        return fields if "resolution" in fields else [*fields, "resolution"]

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
            else:
                case = obj
                if "owner" in form.changed_data:
                    case = service_desk.case_assign(
                        case=obj, owner=form.cleaned_data["owner"], user=request.user
                    )
                if form.cleaned_data.get("resolution", "").strip():
                    case = service_desk.case_resolve(
                        case=case, resolution=form.cleaned_data["resolution"], user=request.user
                    )
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
class CreditApprovalAdmin(ReadOnlyModelAdmin):
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
            CreditApproval.objects.select_related(
                "case__account", "invoice", "requested_by", "order"
            ),
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
                if not approve:
                    self.message_user(request, f"Rejected {decided}.", messages.WARNING)
                elif decided.credit_memo is not None:
                    text = f"Approved: credit memo {decided.credit_memo.number} issued."
                    self.message_user(request, text, messages.SUCCESS)
                else:
                    text = f"Approved: replacement order {decided.replacement_order.number} placed."
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
            "authority": authority_for(
                user=approval.requested_by, account=approval.case.account, terms=current_terms()
            ),
        }
        return TemplateResponse(request, "admin/orders/creditapproval/decide.html", context)

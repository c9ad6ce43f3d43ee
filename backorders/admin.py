from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone

from backorders.models import (
    AutoCancellation,
    DecisionRequest,
    OverdueRun,
    Receipt,
    StockShortage,
)
from backorders.selectors import overdue_runs_admin_queryset
from backorders.services import eta_change, run_cancel, stock_holdback_write
from inventory.admin_extensions import AdminExtension, admin_extend, extension_action
from inventory.calendar import add_business_days
from inventory.models import OPEN_INBOUND_STATUSES, InboundRun, StockLevel
from inventory.services import REASON_MAX_LENGTH
from orders.admin import ActionDone, ActionForm, case_field, order_action_register
from orders.admin.common import ReadOnlyModelAdmin


@admin.register(DecisionRequest)
class DecisionRequestAdmin(admin.ModelAdmin):
    list_display = ["pk", "line", "run", "old_date", "new_date", "deadline", "status", "decided_at"]
    list_filter = ["status", "deadline"]
    list_select_related = ["line", "run"]
    raw_id_fields = ["line", "run", "eta_change", "switched_to", "decided_by"]
    readonly_fields = [f.name for f in DecisionRequest._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(AutoCancellation)
class AutoCancellationAdmin(admin.ModelAdmin):
    list_display = ["pk", "line", "account", "quantity", "source", "on_date", "notice_key"]
    list_filter = ["source", "on_date"]
    raw_id_fields = ["line", "account"]
    readonly_fields = [f.name for f in AutoCancellation._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Receipt)
class ReceiptAdmin(admin.ModelAdmin):
    list_display = ["pk", "run", "key", "received_by", "created_at"]
    raw_id_fields = ["run", "received_by"]
    readonly_fields = [f.name for f in Receipt._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(StockShortage)
class StockShortageAdmin(admin.ModelAdmin):
    list_display = ["pk", "stock_level", "counted", "allocated_before", "backordered", "cancelled"]
    raw_id_fields = ["stock_level", "reported_by"]
    readonly_fields = [f.name for f in StockShortage._meta.fields]

    def has_add_permission(self, request):
        return False


class EtaChangeForm(forms.Form):
    new_eta = forms.DateField(
        label="New ETA", widget=forms.DateInput(attrs={"type": "date"}), help_text="YYYY-MM-DD"
    )
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the run moves; customer service and the retailers read it.",
    )


class RunCancelForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the run will not come; the retailers waiting on it read it.",
    )


def _run_action(page, request, queryset, *, action, form_class, apply, title, submit, run_of=None):
    """One run (`run_of` the selected row, when the page lists something else), an
    intermediate form, then the service; its errors land on the form."""
    selected = list(queryset[:2])
    if len(selected) != 1:
        page.message_user(request, "Select exactly one run.", messages.WARNING)
        return None
    run = run_of(selected[0]) if run_of else selected[0]
    form = form_class(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        try:
            done = apply(run, form.cleaned_data)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                target = {"eta": "new_eta"}.get(field, field)
                form.add_error(target if target in form.fields else None, errors)
        else:
            page.message_user(request, done, messages.SUCCESS)
            return redirect(request.get_full_path())
    context = {
        **page.admin_site.each_context(request),
        "title": title.format(run.reference),
        "opts": page.model._meta,
        "run": run,
        "selected_pk": selected[0].pk,
        "form": form,
        "action": action,
        "submit": submit,
        "today": timezone.localdate(),
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/backorders/run_action.html", context)


@extension_action(description="Change ETA (with a reason)", permission="inventory.change_eta")
def change_eta(page, request, queryset, run_of=None, action="change_eta"):
    def apply(run, data):
        eta_change(run=run, new_eta=data["new_eta"], reason=data["reason"], user=request.user)
        return f"{run.reference} now due {data['new_eta']:%Y-%m-%d}."

    return _run_action(
        page,
        request,
        queryset,
        action=action,
        form_class=EtaChangeForm,
        apply=apply,
        title="Change the ETA of {}",
        submit="Change ETA",
        run_of=run_of,
    )


@extension_action(
    description="Cancel run (with a reason)", permission="inventory.change_inboundrun"
)
def cancel_run(page, request, queryset):
    def apply(run, data):
        result = run_cancel(run=run, reason=data["reason"], user=request.user)
        return (
            f"{run.reference} cancelled: {len(result.repegged)} backordered line(s) moved "
            f"to another run, {len(result.cancelled)} cancelled and told."
        )

    return _run_action(
        page,
        request,
        queryset,
        action="cancel_run",
        form_class=RunCancelForm,
        apply=apply,
        title="Cancel {}",
        submit="Cancel the run",
    )


class RunEngineActions(AdminExtension):
    """The planners' run actions, through the backorders engine: "Change ETA" (eta_change,
    the one way an ETA moves) and "Cancel run" (run_cancel: its backorders move to
    another run inside their window or are cancelled, and the retailers are told)."""

    actions = (change_eta, cancel_run)


admin_extend(InboundRun, RunEngineActions())


class HoldbackFairFill(AdminExtension):
    """A holdback edit on the stock page (form or list) goes through the engine: pairs a
    lowered holdback frees go to the SKU's waiting backorders before anyone else."""

    def save_model(self, page, request, obj, form, change, proceed):
        stock_holdback_write(sku_id=obj.sku_id, write=proceed)


admin_extend(StockLevel, HoldbackFairFill())


class OrderEtaForm(ActionForm):
    """ "Change an ETA" on the order page: one of the runs this order waits for."""

    case = case_field(required=False)
    run = forms.ModelChoiceField(queryset=InboundRun.objects.none(), label="Inbound run")
    eta = forms.DateField(label="New ETA", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH, help_text="Told to every retailer affected."
    )

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, order=order, **kwargs)
        self.fields["run"].queryset = InboundRun.objects.filter(
            lines__pegs__line__order=order
        ).distinct()


def _order_eta_change(form, request, order):
    data = form.cleaned_data
    eta_change(
        run=data["run"],
        new_eta=data["eta"],
        reason=data["reason"],
        case=data["case"],
        user=request.user,
    )
    return ActionDone(f"{data['run'].reference} now arrives {data['eta']:%b %d, %Y}.")


order_action_register(
    slug="eta",
    title="Change an ETA",
    form=OrderEtaForm,
    handler=_order_eta_change,
    permission="inventory.change_eta",
    position=70,
    query_initial=("run",),
)


class OverdueStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("resolved", "Resolved by an ETA change"), ("all", "All")]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Waiting for a new ETA",
        }
        yield from super().choices(changelist)

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        if self.value() == "resolved":
            return queryset.filter(eta_change__isnull=False)
        return queryset.filter(eta_change__isnull=True, run__status__in=OPEN_INBOUND_STATUSES)


@admin.register(OverdueRun)
class OverdueRunAdmin(ReadOnlyModelAdmin):
    """Overdue runs: past their ETA, not received. "Confirm a new ETA" records the
    planner's date through eta_change; left unconfirmed past the grace period, the
    morning job records one itself."""

    list_display = [
        "run",
        "factory",
        "eta",
        "days_overdue",
        "pairs_waiting",
        "confirm_by",
        "resolution",
    ]
    list_filter = [OverdueStateFilter]
    search_fields = ["run__reference", "run__factory"]
    actions = ["confirm_eta"]
    readonly_fields = [f.name for f in OverdueRun._meta.fields]

    def get_queryset(self, request):
        return overdue_runs_admin_queryset()

    def has_change_eta_permission(self, request):
        return request.user.has_perm("inventory.change_eta")

    @admin.action(description="Confirm a new ETA (with a reason)", permissions=["change_eta"])
    def confirm_eta(self, request, queryset):
        return change_eta(
            self, request, queryset, run_of=lambda overdue: overdue.run, action="confirm_eta"
        )

    @admin.display(ordering="run__factory")
    def factory(self, obj):
        return obj.run.factory

    @admin.display(description="Days overdue")
    def days_overdue(self, obj):
        return (timezone.localdate() - obj.eta).days

    @admin.display(description="Backordered pairs waiting", ordering="pairs_waiting")
    def pairs_waiting(self, obj):
        return obj.pairs_waiting or 0

    @admin.display(description="Confirm by (else the system moves it)")
    def confirm_by(self, obj):
        if obj.eta_change_id:
            return "-"
        return add_business_days(obj.eta, obj.grace_days)

    @admin.display(description="Resolved by")
    def resolution(self, obj):
        change = obj.eta_change
        if change is None:
            return "Waiting for a new ETA"
        who = change.changed_by or "the system"
        return f"{change.new_eta:%Y-%m-%d} by {who}: {change.reason}"


from backorders import admin_promises  # noqa: E402, F401  (the promise report page)

"""The admin, tuned for customer service: an order page that tells the whole story, one
form per resolution action (each calls a service in orders.services.service_desk, where
the authority limits live), the case log, the audit trail, versioned commercial terms and
CSV exports that are safe to open in a spreadsheet."""

import csv
import json

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import Q, Sum
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from inventory.models import EtaChange, InboundRun, StockLevel
from inventory.selectors import run_etas
from notifications.models import Message
from orders import selectors
from orders.audit import audit_record, changes_between, field_values
from orders.exceptions import OrderError, OrderInputError
from orders.models import (
    Account,
    AuditEvent,
    BackorderPeg,
    Case,
    CaseChannel,
    CaseReason,
    CaseStatus,
    CommercialTerms,
    CreditApproval,
    CreditApprovalStatus,
    CreditMemo,
    CreditReason,
    Invoice,
    InvoiceLine,
    Membership,
    Order,
    ReturnAuthorization,
    ReturnLine,
    Shipment,
    ShipmentLine,
    ShipTo,
)
from orders.services import service_desk
from orders.services.ordering import CancelRequest, LineRequest

# --- CSV exports ------------------------------------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula gets a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_response(*, filename, header, rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([csv_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return response


def export_csv_action(*, filename, columns, select_related=()):
    """An admin action exporting the selected rows; columns are (header, attribute path)."""

    def read(obj, dotted):
        for part in dotted.split("__"):
            obj = getattr(obj, part, None)
            if obj is None:
                return ""
        return obj() if callable(obj) else obj

    @admin.action(description="Export CSV")
    def export_csv(modeladmin, request, queryset):
        rows = (
            [read(obj, dotted) for _, dotted in columns]
            for obj in queryset.select_related(*select_related).iterator(chunk_size=2000)
        )
        return csv_response(
            filename=f"{filename}-{timezone.localdate():%Y%m%d}.csv",
            header=[title for title, _ in columns],
            rows=rows,
        )

    return export_csv


# --- audit wiring for direct edits ------------------------------------------------------


class AuditedAdminMixin:
    """Records every add, change and delete made through this admin (and its inlines),
    with a required reason, in the admin's own transaction."""

    audit_reason_help = "Why? Kept in the audit trail."

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The reason is declared on the form below, not looked up on the model.
        fields = (
            kwargs["fields"]
            if "fields" in kwargs
            else flatten_fieldsets(self.get_fieldsets(request, obj))
        )
        if fields is not None:
            kwargs["fields"] = [name for name in fields if name != "change_reason"]
        form = super().get_form(request, obj, change=change, **kwargs)
        help_text = self.audit_reason_help

        class AuditedForm(form):
            change_reason = forms.CharField(
                label="Reason for this change", max_length=500, help_text=help_text
            )

        AuditedForm.__name__ = form.__name__
        return AuditedForm

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        names = {name for _, options in fieldsets for name in options.get("fields", ())}
        if "change_reason" in names or not self.has_change_permission(request, obj):
            return fieldsets
        return [*fieldsets, ("Audit", {"fields": ["change_reason"]})]

    def save_model(self, request, obj, form, change):
        before = {}
        if change and obj.pk:
            stored = type(obj).objects.filter(pk=obj.pk).first()
            before = field_values(stored) if stored else {}
        super().save_model(request, obj, form, change)
        after = field_values(obj)
        audit_record(
            actor=request.user,
            action="admin.changed" if change else "admin.added",
            obj=obj,
            changes=changes_between(before, after) if change else changes_between({}, after),
            reason=form.cleaned_data.get("change_reason", ""),
        )

    def save_formset(self, request, form, formset, change):
        reason = form.cleaned_data.get("change_reason", "")
        befores = {}
        for inline_form in formset.forms:
            instance = inline_form.instance
            if instance.pk and inline_form.has_changed():
                stored = type(instance).objects.filter(pk=instance.pk).first()
                befores[instance.pk] = field_values(stored) if stored else {}
                if formset.can_delete and formset._should_delete_form(inline_form):
                    audit_record(
                        actor=request.user,
                        action="admin.deleted",
                        obj=instance,
                        changes={name: [old, None] for name, old in befores[instance.pk].items()},
                        reason=reason,
                    )
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            audit_record(
                actor=request.user,
                action="admin.added",
                obj=obj,
                changes=changes_between({}, field_values(obj)),
                reason=reason,
            )
        for obj, _ in formset.changed_objects:
            audit_record(
                actor=request.user,
                action="admin.changed",
                obj=obj,
                changes=changes_between(befores.get(obj.pk, {}), field_values(obj)),
                reason=reason,
            )

    def delete_model(self, request, obj):
        values = field_values(obj)
        audit_record(
            actor=request.user,
            action="admin.deleted",
            obj=obj,
            changes={name: [old, None] for name, old in values.items()},
            reason="Deleted in the admin",
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class AuditTrailMixin:
    """Shows the object's audit trail under its change form."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, object_id)
        if obj is not None:
            content_type = ContentType.objects.get_for_model(obj, for_concrete_model=True)
            extra_context["audit_events"] = list(
                AuditEvent.objects.filter(content_type=content_type, object_id=str(obj.pk))
                .select_related("actor", "case")
                .order_by("-created_at", "-pk")[:200]
            )
        return super().change_view(request, object_id, form_url, extra_context=extra_context)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- accounts and terms ------------------------------------------------------------------


class ShipToInline(admin.StackedInline):
    model = ShipTo
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]
    readonly_fields = ["created_at"]


@admin.register(Account)
class AccountAdmin(AuditTrailMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["number", "name", "rep", "credit_status", "is_active"]
    list_filter = ["credit_status", "is_active", "accepts_backorders"]
    search_fields = ["number", "name"]
    list_select_related = ["rep"]
    raw_id_fields = ["rep"]
    show_full_result_count = False
    inlines = [ShipToInline, MembershipInline]
    change_form_template = "admin/orders/audited_change_form.html"
    actions = [
        export_csv_action(
            filename="accounts",
            columns=[
                ("Number", "number"),
                ("Name", "name"),
                ("Rep", "rep__email"),
                ("Credit status", "get_credit_status_display"),
                ("Payment terms days", "payment_terms_days"),
                ("Backorder window days", "backorder_window_days"),
                ("Active", "is_active"),
            ],
            select_related=["rep"],
        )
    ]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CommercialTerms)
class CommercialTermsAdmin(admin.ModelAdmin):
    """Versioned: saving publishes a new version in force from now; no row ever changes."""

    list_display = ["version", "effective_from", "note", "created_by"]
    list_select_related = ["created_by"]
    readonly_fields = ["version", "effective_from", "created_by", "created_at"]
    change_form_template = "admin/orders/audited_change_form.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.base_fields["note"].required = True
        form.base_fields["note"].help_text = (
            "What changed in this version. Saving publishes it as a new version, in force "
            "from now; orders keep the version they were placed under."
        )
        return form

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in form.changed_data if name != "note"}
        if not change:
            values = {name: form.cleaned_data[name] for name in form.cleaned_data if name != "note"}
        try:
            published = service_desk.commercial_terms_revise(
                values=values, user=request.user, note=form.cleaned_data["note"]
            )
        except service_desk.StaffNotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        obj.pk = published.pk
        obj.version = published.version
        obj.effective_from = published.effective_from

    def response_change(self, request, obj):
        self.message_user(
            request, f"Published terms v{obj.version}, in force from now.", messages.SUCCESS
        )
        return HttpResponseRedirect(reverse("admin:orders_commercialterms_change", args=[obj.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, object_id)
        if obj is not None:
            extra_context["audit_events"] = list(
                AuditEvent.objects.filter(
                    content_type=ContentType.objects.get_for_model(CommercialTerms),
                    object_id=str(obj.pk),
                ).select_related("actor")
            )
        return super().change_view(request, object_id, form_url, extra_context=extra_context)


# --- the order page -------------------------------------------------------------------


def _decision_model():
    try:
        return apps.get_model("backorders", "DecisionRequest")
    except LookupError:
        return None


def order_messages(order):
    """Outbox rows about this order: its confirmation, and every message whose context
    names it (shipment, invoice, shortage, ETA digests listing its lines)."""
    if connection.vendor == "postgresql":
        in_lines = Q(context__lines__contains=[{"order_number": order.number}])
    else:  # SQLite has no JSON containment: match the text as the field writes it
        in_lines = Q(context__icontains=json.dumps({"order_number": order.number})[1:-1])
    return (
        Message.objects.filter(
            Q(key__startswith=f"order-confirmation:{order.pk}:")
            | Q(context__order_number=order.number)
            | in_lines
        )
        .select_related("recipient")
        .order_by("-created_at", "-pk")[:100]
    )


def order_story(order) -> dict:
    """Everything about one order, in a fixed number of queries."""
    lines = list(
        order.lines.select_related("sku__style", "substitute_for__sku").prefetch_related(
            "allocations__stock_level__warehouse"
        )
    )
    pegs = {}
    for peg in BackorderPeg.objects.filter(line__order=order).select_related("inbound_line__run"):
        pegs.setdefault(peg.line_id, []).append(peg)
    expected = selectors.line_expected_dates(lines=lines)
    etas = run_etas(
        run_ids={peg.inbound_line.run_id for line_pegs in pegs.values() for peg in line_pegs}
    )
    for line_pegs in pegs.values():
        for peg in line_pegs:
            peg.run_eta = etas.get(peg.inbound_line.run_id)
    for line in lines:
        line.peg_list = pegs.get(line.pk, [])
        line.expected_date = expected.get(line.pk)
    shipments = list(order.shipments.prefetch_related("lines__order_line__sku"))
    invoices = list(
        order.invoices.prefetch_related("lines", "credit_memos__created_by", "payments")
    )
    returns = list(order.returns.prefetch_related("lines__order_line__sku"))
    decision_model = _decision_model()
    decisions = (
        list(
            decision_model.objects.filter(line__order=order)
            .select_related("line__sku", "run")
            .order_by("-created_at")
        )
        if decision_model
        else []
    )
    cases = list(order.cases.select_related("opened_by", "resolved_by"))
    credit_requests = list(
        CreditApproval.objects.filter(invoice__order=order).select_related(
            "invoice", "requested_by", "decided_by", "credit_memo", "case"
        )
    )
    invoice_type = ContentType.objects.get_for_model(Invoice)
    order_type = ContentType.objects.get_for_model(Order)
    actions = list(
        AuditEvent.objects.filter(
            Q(content_type=order_type, object_id=str(order.pk))
            | Q(content_type=invoice_type, object_id__in=[str(i.pk) for i in invoices])
            | Q(case__order=order)
        )
        .select_related("actor", "case", "content_type")
        .order_by("-created_at", "-pk")[:200]
    )
    runs = {}
    for line_pegs in pegs.values():
        for peg in line_pegs:
            runs[peg.inbound_line.run_id] = (peg.inbound_line.run, peg.run_eta)
    return {
        "lines": lines,
        "shipments": shipments,
        "invoices": invoices,
        "returns": returns,
        "decisions": decisions,
        "cases": cases,
        "open_cases": [case for case in cases if case.status == CaseStatus.OPEN],
        "credit_requests": credit_requests,
        "order_messages": list(order_messages(order)),
        "staff_actions": actions,
        "runs": sorted(runs.values(), key=lambda pair: (pair[1], pair[0].pk)),
        "totals": {
            "quantity": sum(line.quantity for line in lines),
            "allocated": sum(line.allocated for line in lines),
            "backordered": sum(line.backordered for line in lines),
            "shipped": sum(line.shipped for line in lines),
            "cancelled": sum(line.cancelled for line in lines),
        },
    }


class CaseForAccountField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"Case {obj.pk}: {obj.get_reason_display()} ({obj.get_channel_display()})"


class ActionForm(forms.Form):
    """Base of the resolution forms: the case the action belongs to, plus per-line rows."""

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.line_fields = []  # (field name, order line), in the order sent to the service
        if "case" in self.fields:
            open_cases = Case.objects.filter(account=order.account, status=CaseStatus.OPEN)
            self.fields["case"].queryset = open_cases.order_by("-opened_at")
            preferred = open_cases.filter(order=order).order_by("-opened_at").first()
            if preferred is not None and not self.is_bound:
                self.fields["case"].initial = preferred.pk

    def add_line_fields(self, lines, *, label, limit):
        for line in lines:
            name = f"line_{line.pk}"
            self.fields[name] = forms.IntegerField(
                required=False,
                min_value=1,
                max_value=limit(line) or None,
                label=f"{line.sku.code}",
                help_text=label(line),
            )
            self.line_fields.append((name, line))

    def chosen_lines(self):
        return [
            (name, line, self.cleaned_data[name])
            for name, line in self.line_fields
            if self.cleaned_data.get(name)
        ]

    def apply_service_errors(self, error: ValidationError, *, row_fields=()):
        """Map a service's {"lines[i].quantity": [...], "amount": [...]} onto the form."""
        for key, problems in error.message_dict.items():
            field = key
            if key.startswith("lines[") and "]" in key:
                index = int(key[6 : key.index("]")])
                field = row_fields[index] if index < len(row_fields) else None
            if field not in self.fields:
                field = None
            for problem in problems:
                self.add_error(field, problem if field else f"{key}: {problem}")


def case_field(required=True):
    return CaseForAccountField(
        queryset=Case.objects.none(),
        required=required,
        help_text="The contact this action resolves (open one from the order page).",
    )


class CaseOpenForm(ActionForm):
    reason = forms.ChoiceField(choices=CaseReason.choices)
    channel = forms.ChoiceField(choices=CaseChannel.choices)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)


class CreditForm(ActionForm):
    case = case_field()
    invoice = forms.ModelChoiceField(queryset=Invoice.objects.none())
    invoice_line = forms.ModelChoiceField(
        queryset=InvoiceLine.objects.none(),
        required=False,
        help_text="Leave empty to credit the invoice as a whole (e.g. freight).",
    )
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0.01)
    reason = forms.ChoiceField(choices=[c for c in CreditReason.choices if c[0] != "return"])
    note = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, order=order, **kwargs)
        self.fields["invoice"].queryset = order.invoices.all()
        invoices = list(order.invoices.values_list("pk", flat=True)[:2])
        if len(invoices) == 1 and not self.is_bound:
            self.fields["invoice"].initial = invoices[0]
        self.fields["invoice_line"].queryset = InvoiceLine.objects.filter(
            invoice__order=order
        ).select_related("invoice")
        self.fields["invoice_line"].label_from_instance = lambda line: (
            f"{line.invoice.number}: {line.description} ({line.amount})"
        )


class ReturnForm(ActionForm):
    case = case_field()
    reason = forms.ChoiceField(choices=CreditReason.choices)
    note = forms.CharField(max_length=500, required=False, widget=forms.Textarea({"rows": 2}))

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, order=order, **kwargs)
        returned = dict(
            ReturnLine.objects.filter(order_line__order=order)
            .values_list("order_line_id")
            .annotate(total=Sum("quantity"))
        )
        shipped = [line for line in order.lines.select_related("sku") if line.shipped]
        self.add_line_fields(
            shipped,
            label=lambda line: f"Shipped {line.shipped}, returned {returned.get(line.pk, 0)}",
            limit=lambda line: max(line.shipped - returned.get(line.pk, 0), 0),
        )


class ReplacementForm(ActionForm):
    case = case_field()
    note = forms.CharField(
        max_length=500,
        widget=forms.Textarea({"rows": 2}),
        help_text="Why the replacement is sent (kept on the case).",
    )

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, order=order, **kwargs)
        self.add_line_fields(
            list(order.lines.select_related("sku")),
            label=lambda line: f"Ordered {line.quantity}, shipped {line.shipped}",
            limit=lambda line: line.quantity,
        )


class CancelLinesForm(ActionForm):
    case = case_field()
    reason = forms.CharField(max_length=200, help_text="Shown to the retailer.")

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, order=order, **kwargs)
        self.add_line_fields(
            [line for line in order.lines.select_related("sku") if line.open_quantity],
            label=lambda line: (
                f"Open {line.open_quantity} "
                f"({line.allocated} allocated, {line.backordered} backordered)"
            ),
            limit=lambda line: line.open_quantity,
        )


class ResendForm(ActionForm):
    case = case_field(required=False)
    message = forms.ModelChoiceField(queryset=Message.objects.none())
    reason = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, order=order, **kwargs)
        ids = [message.pk for message in order_messages(order)]
        self.fields["message"].queryset = Message.objects.filter(pk__in=ids).select_related(
            "recipient"
        )
        self.fields["message"].label_from_instance = lambda m: (
            f"{m.get_kind_display()} to {m.to_email or m.recipient} "
            f"({m.created_at:%Y-%m-%d %H:%M}, {m.get_status_display().lower()})"
        )


def _do_case_open(form, request, order):
    case = service_desk.case_open(
        account=order.account,
        order=order,
        reason=form.cleaned_data["reason"],
        channel=form.cleaned_data["channel"],
        summary=form.cleaned_data["summary"],
        user=request.user,
    )
    return f"Opened case {case.pk}.", ()


def _do_credit(form, request, order):
    data = form.cleaned_data
    approval = service_desk.credit_issue(
        case=data["case"],
        invoice=data["invoice"],
        invoice_line=data["invoice_line"],
        amount=data["amount"],
        reason=data["reason"],
        note=data["note"],
        user=request.user,
    )
    if approval.status == CreditApprovalStatus.PENDING:
        return (
            f"Credit of ${approval.amount} is above your authority on this case; "
            "it waits for a lead's approval.",
            (),
        )
    return f"Issued credit memo {approval.credit_memo.number} for ${approval.amount}.", ()


def _do_return(form, request, order):
    chosen = form.chosen_lines()
    if not chosen:
        raise OrderInputError({"lines": ["Enter the quantity expected back on at least one line."]})
    authorization = service_desk.return_create(
        case=form.cleaned_data["case"],
        order=order,
        lines=[{"sku": line.sku.code, "quantity": qty} for _, line, qty in chosen],
        reason=form.cleaned_data["reason"],
        note=form.cleaned_data["note"],
        user=request.user,
    )
    return f"Authorized return {authorization.number}; its label is being prepared.", [
        name for name, _, _ in chosen
    ]


def _do_replacement(form, request, order):
    chosen = form.chosen_lines()
    if not chosen:
        raise OrderInputError({"lines": ["Enter a quantity to send on at least one line."]})
    replacement = service_desk.replacement_send(
        case=form.cleaned_data["case"],
        order=order,
        lines=[LineRequest(sku=line.sku.code, quantity=qty) for _, line, qty in chosen],
        note=form.cleaned_data["note"],
        user=request.user,
    )
    return f"Replacement order {replacement.number} placed at no charge.", [
        name for name, _, _ in chosen
    ]


def _do_cancel(form, request, order):
    chosen = form.chosen_lines()
    if not chosen:
        raise OrderInputError({"lines": ["Enter a quantity to cancel on at least one line."]})
    service_desk.order_lines_cancel(
        case=form.cleaned_data["case"],
        order=order,
        lines=[CancelRequest(line_id=line.pk, quantity=qty) for _, line, qty in chosen],
        reason=form.cleaned_data["reason"],
        user=request.user,
    )
    return "Cancelled; stock and inbound promises were released.", [name for name, _, _ in chosen]


def _do_resend(form, request, order):
    data = form.cleaned_data
    service_desk.message_resend_staff(
        message=data["message"], case=data["case"], reason=data["reason"], user=request.user
    )
    return f"{data['message'].get_kind_display()} queued to resend.", ()


# Resolution actions on the order page: slug -> (title, form, handler, permission).
# Apps above orders add their own (backorders adds "Change an ETA").
ORDER_ACTIONS = {
    "case": ("Open a case", CaseOpenForm, _do_case_open, "orders.add_case"),
    "credit": ("Issue a credit", CreditForm, _do_credit, "orders.add_creditmemo"),
    "return": ("Authorize a return", ReturnForm, _do_return, "orders.add_returnauthorization"),
    "replacement": (
        "Send a replacement",
        ReplacementForm,
        _do_replacement,
        "orders.send_replacement",
    ),
    "cancel": ("Cancel lines", CancelLinesForm, _do_cancel, "orders.cancel_order_lines"),
    "resend": ("Resend a message", ResendForm, _do_resend, "notifications.resend_message"),
}


@admin.register(Order)
class OrderAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["number", "account", "po_number", "status", "source", "total", "placed_at"]
    list_filter = ["status", "source", "no_charge"]
    search_fields = [
        "=number",
        "po_number",
        "account__name",
        "=account__number",
        "=lines__sku__code",
        "=lines__sku__upc",
        "=invoices__number",
        "shipments__tracking",
    ]
    list_select_related = ["account"]
    show_full_result_count = False
    date_hierarchy = None
    ordering = ["-placed_at", "-pk"]
    list_per_page = 50
    change_form_template = "admin/orders/order/change_form.html"
    fields = ["po_number"]
    actions = [
        export_csv_action(
            filename="orders",
            columns=[
                ("Number", "number"),
                ("Account", "account__name"),
                ("Account number", "account__number"),
                ("PO number", "po_number"),
                ("Status", "get_status_display"),
                ("Source", "get_source_display"),
                ("Subtotal", "subtotal"),
                ("Freight", "freight"),
                ("Total", "total"),
                ("Placed at", "placed_at"),
            ],
            select_related=["account"],
        )
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<int:object_id>/service/<slug:action>/",
                self.admin_site.admin_view(self.service_action_view),
                name="orders_order_service",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        order = self.get_object(request, object_id)
        if order is not None:
            extra_context.update(order_story(order))
            extra_context["service_actions"] = [
                (slug, title)
                for slug, (title, _, _, perm) in ORDER_ACTIONS.items()
                if request.user.has_perm(perm)
            ]
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def get_object(self, request, object_id, from_field=None):
        queryset = self.get_queryset(request).select_related(
            "account", "terms", "ship_to", "placed_by"
        )
        try:
            return queryset.get(pk=int(object_id))
        except (Order.DoesNotExist, ValueError, TypeError):
            return None

    def service_action_view(self, request, object_id, action):
        if action not in ORDER_ACTIONS:
            raise PermissionDenied("Unknown action.")
        title, form_class, handler, perm = ORDER_ACTIONS[action]
        if not self.has_view_permission(request) or not request.user.has_perm(perm):
            raise PermissionDenied
        order = get_object_or_404(Order.objects.select_related("account", "ship_to"), pk=object_id)
        initial = {}
        if action == "resend" and request.GET.get("message", "").isdigit():
            initial["message"] = int(request.GET["message"])
        if action == "eta" and request.GET.get("run", "").isdigit():
            initial["run"] = int(request.GET["run"])
        form = form_class(request.POST or None, order=order, initial=initial)
        if request.method == "POST" and form.is_valid():
            rows = []
            try:
                done, rows = handler(form, request, order)
            except service_desk.StaffNotAllowed as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                row_fields = rows or [name for name, _, _ in form.chosen_lines()]
                form.apply_service_errors(exc, row_fields=row_fields)
            except (OrderError, ValueError) as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"{title}: {order.number}",
            "subtitle": order.account.name,
            "order": order,
            "form": form,
            "line_fields": [form[name] for name, _ in form.line_fields],
            "opts": self.opts,
            "action": action,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/orders/order/service_action.html", context)


# --- shipments, invoices, credits, returns ----------------------------------------------


class ShipmentLineInline(ReadOnlyInline):
    model = ShipmentLine
    fields = ["order_line", "quantity"]
    readonly_fields = fields


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ["number", "order", "carrier", "tracking", "shipped_at"]
    search_fields = ["=number", "tracking", "=order__number", "order__account__name"]
    list_select_related = ["order"]
    show_full_result_count = False
    inlines = [ShipmentLineInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Shipment._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = ["description", "quantity", "unit_price", "amount"]
    readonly_fields = fields


class CreditMemoInline(ReadOnlyInline):
    model = CreditMemo
    fields = ["number", "reason", "amount", "issued_on", "created_by", "approved_by", "note"]
    readonly_fields = fields


@admin.register(Invoice)
class InvoiceAdmin(AuditTrailMixin, admin.ModelAdmin):
    list_display = ["number", "account", "order", "issued_on", "due_on", "total", "status"]
    list_filter = ["status"]
    search_fields = ["=number", "=order__number", "order__po_number", "account__name"]
    list_select_related = ["account", "order"]
    show_full_result_count = False
    inlines = [InvoiceLineInline, CreditMemoInline]
    change_form_template = "admin/orders/audited_change_form.html"
    actions = [
        export_csv_action(
            filename="invoices",
            columns=[
                ("Number", "number"),
                ("Account", "account__name"),
                ("Order", "order__number"),
                ("PO number", "order__po_number"),
                ("Issued on", "issued_on"),
                ("Due on", "due_on"),
                ("Terms", "terms_label"),
                ("Total", "total"),
                ("Paid", "paid_amount"),
                ("Credited", "credited_amount"),
                ("Open balance", "open_balance"),
                ("Status", "get_status_display"),
            ],
            select_related=["account", "order"],
        )
    ]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Invoice._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CreditMemo)
class CreditMemoAdmin(admin.ModelAdmin):
    list_display = ["number", "invoice", "reason", "amount", "issued_on", "created_by"]
    list_filter = ["reason"]
    search_fields = ["=number", "=invoice__number", "invoice__account__name"]
    list_select_related = ["invoice", "created_by"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in CreditMemo._meta.fields]

    def has_add_permission(self, request):
        return False  # credits are issued from the order page, within authority

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = ["order_line", "quantity"]
    readonly_fields = fields


@admin.register(ReturnAuthorization)
class ReturnAuthorizationAdmin(admin.ModelAdmin):
    list_display = ["number", "account", "order", "reason", "status", "created_at", "label"]
    list_filter = ["status", "reason"]
    search_fields = ["=number", "=order__number", "account__name"]
    list_select_related = ["account", "order"]
    show_full_result_count = False
    inlines = [ReturnLineInline]

    def get_readonly_fields(self, request, obj=None):
        return [*(f.name for f in ReturnAuthorization._meta.fields), "label"]

    @admin.display(description="Return label")
    def label(self, obj):
        if not obj.label_pdf:
            return "Being prepared"
        return format_html('<a href="{}">PDF</a>', obj.label_pdf.url)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- the case log, credit approvals and the audit trail -----------------------------------


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
    inlines = [CaseCreditInline, CaseActionInline]

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


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The trail is evidence: nobody, superusers included, may edit or delete it."""

    list_display = ["created_at", "actor", "action", "content_type", "object_repr", "case"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "=object_id", "actor__email", "reason", "action"]
    list_select_related = ["actor", "content_type", "case"]
    show_full_result_count = False
    readonly_fields = [
        "created_at",
        "actor",
        "action",
        "content_type",
        "object_id",
        "object_repr",
        "changes",
        "reason",
        "case",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- inventory pages: audit hooks and the ETA history -------------------------------------
# Inventory does not depend on orders, so the audit wiring for stock levels and runs is
# added here, around whatever admin the inventory app registered for them.


class EtaChangeInline(ReadOnlyInline):
    model = EtaChange
    fields = ["changed_at", "old_eta", "new_eta", "reason", "changed_by"]
    readonly_fields = fields
    verbose_name_plural = "ETA history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")


def _audited_admin(model, *, extra_inlines=(), **defaults):
    base = type(admin.site._registry[model]) if admin.site.is_registered(model) else None
    if base is not None:
        admin.site.unregister(model)
    else:
        base = type(f"{model.__name__}BaseAdmin", (admin.ModelAdmin,), defaults)
    inlines = [*getattr(base, "inlines", [])]
    inlines += [i for i in extra_inlines if i.model not in {j.model for j in inlines}]
    audited = type(
        f"Audited{base.__name__}",
        (AuditTrailMixin, AuditedAdminMixin, base),
        {
            "inlines": inlines,
            "change_form_template": getattr(base, "change_form_template", None)
            or "admin/orders/audited_change_form.html",
            "__module__": __name__,
        },
    )
    admin.site.register(model, audited)
    return audited


StockLevelAuditedAdmin = _audited_admin(
    StockLevel,
    list_display=["sku", "warehouse", "on_hand", "allocated", "holdback"],
    search_fields=["=sku__code", "=sku__upc"],
    list_select_related=["sku", "warehouse"],
    raw_id_fields=["sku"],
    show_full_result_count=False,
)
InboundRunAuditedAdmin = _audited_admin(
    InboundRun,
    extra_inlines=[EtaChangeInline],
    list_display=["reference", "warehouse", "status", "eta"],
    list_filter=["status"],
    search_fields=["reference", "factory"],
    show_full_result_count=False,
)

from orders import pricing_admin  # noqa: E402, F401  (registers the price list admin)

__all__ = ["FORMULA_PREFIXES", "csv_cell", "csv_response", "order_story"]

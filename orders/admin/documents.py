"""Shipments, invoices, credit memos and return authorizations: read-only in the admin
(they are written by the warehouse feed and the service desk's services)."""

from django.contrib import admin, messages
from django.utils.html import format_html

from inventory.admin_extensions import ExtensibleAdmin
from orders.admin.audit import AuditTrail
from orders.admin.common import ReadOnlyInline, ReadOnlyModelAdmin
from orders.admin.exports import export_csv_action
from orders.exceptions import OrderInputError
from orders.models import (
    CreditApprovalStatus,
    CreditMemo,
    Invoice,
    InvoiceLine,
    ReturnAuthorization,
    ReturnLine,
    Shipment,
    ShipmentLine,
)
from orders.services import returns
from orders.services.service_desk import StaffNotAllowed


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
class InvoiceAdmin(ExtensibleAdmin):
    extensions = (AuditTrail(),)
    list_display = ["number", "account", "order", "issued_on", "due_on", "total", "status"]
    list_filter = ["status"]
    search_fields = ["=number", "=order__number", "order__po_number", "account__name"]
    list_select_related = ["account", "order"]
    show_full_result_count = False
    inlines = [InvoiceLineInline, CreditMemoInline]
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
class CreditMemoAdmin(ReadOnlyModelAdmin):
    """Credits are issued from the order page, within authority; here they are read."""

    list_display = ["number", "invoice", "reason", "amount", "issued_on", "created_by"]
    list_filter = ["reason"]
    search_fields = ["=number", "=invoice__number", "invoice__account__name"]
    list_select_related = ["invoice", "created_by"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in CreditMemo._meta.fields]


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = ["order_line", "quantity", "pairs_received"]
    readonly_fields = fields


def _each_return(modeladmin, request, queryset, step, done):
    """Run one lifecycle step on each selected return; each refusal is an error."""
    for authorization in queryset.select_related("case"):
        try:
            result = step(authorization)
        except (StaffNotAllowed, OrderInputError) as exc:
            problems = getattr(exc, "messages", [str(exc)])
            modeladmin.message_user(
                request, f"{authorization}: {' '.join(problems)}", messages.ERROR
            )
        else:
            modeladmin.message_user(request, done(authorization, result), messages.SUCCESS)


@admin.action(description="Mark received at the warehouse (all pairs)")
def mark_received(modeladmin, request, queryset):
    _each_return(
        modeladmin,
        request,
        queryset,
        lambda ra: returns.return_receive(authorization=ra, user=request.user),
        lambda ra, result: f"{ra}: received; the store and the rep are told.",
    )


@admin.action(description="Credit the pairs received")
def credit_received(modeladmin, request, queryset):
    def done(ra, requests):
        waiting = [r for r in requests if r.status == CreditApprovalStatus.PENDING]
        if waiting:
            return f"{ra}: {len(waiting)} credit(s) above your authority wait for approval."
        return f"{ra}: credited ({', '.join(r.credit_memo.number for r in requests)})."

    _each_return(
        modeladmin,
        request,
        queryset,
        lambda ra: returns.return_credit(authorization=ra, user=request.user),
        done,
    )


@admin.action(description="Close (credited returns)")
def close_returns(modeladmin, request, queryset):
    _each_return(
        modeladmin,
        request,
        queryset,
        lambda ra: returns.return_close(authorization=ra, user=request.user),
        lambda ra, result: f"{ra}: closed.",
    )


@admin.register(ReturnAuthorization)
class ReturnAuthorizationAdmin(admin.ModelAdmin):
    list_display = ["number", "account", "order", "reason", "status", "created_at", "label"]
    list_filter = ["status", "reason"]
    search_fields = ["=number", "=order__number", "account__name"]
    list_select_related = ["account", "order"]
    show_full_result_count = False
    inlines = [ReturnLineInline]
    actions = [mark_received, credit_received, close_returns]

    def get_readonly_fields(self, request, obj=None):
        return [*(f.name for f in ReturnAuthorization._meta.fields), "label"]

    def get_actions(self, request):
        # Each step's service checks its own permission; a viewer is offered none.
        if not request.user.has_perm("orders.change_returnauthorization"):
            return {}
        return super().get_actions(request)

    @admin.display(description="Return label")
    def label(self, obj):
        if not obj.label_pdf:
            return "Being prepared"
        return format_html('<a href="{}">PDF</a>', obj.label_pdf.url)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

"""Accounts (ship-tos, memberships) and the versioned commercial terms."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse

from inventory.admin_extensions import ExtensibleAdmin
from orders.admin.audit import AUDITED, AuditTrail
from orders.admin.exports import export_csv_action
from orders.models import Account, CommercialTerms, Membership, ShipTo
from orders.services import service_desk


class ShipToInline(admin.StackedInline):
    model = ShipTo
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]
    readonly_fields = ["created_at"]


@admin.register(Account)
class AccountAdmin(ExtensibleAdmin):
    extensions = AUDITED
    list_display = ["number", "name", "rep", "credit_status", "is_active"]
    list_filter = ["credit_status", "is_active", "accepts_backorders"]
    search_fields = ["number", "name"]
    list_select_related = ["rep"]
    raw_id_fields = ["rep"]
    show_full_result_count = False
    inlines = [ShipToInline, MembershipInline]
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
class CommercialTermsAdmin(ExtensibleAdmin):
    """Versioned: saving publishes a new version in force from now; no row ever changes
    (commercial_terms_revise records the version in the audit trail)."""

    extensions = (AuditTrail(),)
    list_display = ["version", "effective_from", "note", "created_by"]
    list_select_related = ["created_by"]
    readonly_fields = ["version", "effective_from", "created_by", "created_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "note" not in form.base_fields:
            return form  # a viewer without the right to publish sees every field read-only
        form.base_fields["note"].required = True
        form.base_fields["note"].help_text = (
            "What changed in this version. Saving publishes it as a new version, in force "
            "from now; orders keep the version they were placed under."
        )
        return form

    def has_delete_permission(self, request, obj=None):
        return False

    def write_model(self, request, obj, form, change):
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

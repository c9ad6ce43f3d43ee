"""The audit trail in the admin: direct edits are recorded with a required reason, the
trail shows under each audited page, and nobody, superusers included, edits it.

Both are AdminExtensions, so the same code audits orders' own pages and inventory's
stock and run pages (registered here, whatever order the apps load in)."""

from django import forms
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType

from inventory.admin_extensions import AdminExtension, admin_extend
from inventory.models import InboundRun, StockLevel
from orders.admin.common import ReadOnlyModelAdmin
from orders.audit import audit_record, changes_between, field_values
from orders.audit_sentences import audit_sentence
from orders.models import AuditEvent

REASON_FIELD = "change_reason"


def _removed(values: dict) -> dict:
    return {name: [old, None] for name, old in values.items()}


def _stored_values(obj) -> dict:
    stored = type(obj).objects.filter(pk=obj.pk).first() if obj.pk else None
    return field_values(stored) if stored else {}


class AuditRecording(AdminExtension):
    """Every add, change and delete through the page (and its inlines) is recorded, with
    the reason the form asks for, in the admin's own transaction."""

    position = 10  # outermost: sees the row before and after every other extension
    form_fields = (REASON_FIELD,)

    def form(self, page, request, obj, form_class):
        class AuditedForm(form_class):
            change_reason = forms.CharField(
                label="Reason for this change",
                max_length=500,
                help_text="Why? Kept in the audit trail.",
            )

        AuditedForm.__name__ = form_class.__name__
        return AuditedForm

    def fieldsets(self, page, request, obj, fieldsets):
        names = {name for _, options in fieldsets for name in options.get("fields", ())}
        if REASON_FIELD in names or not page.has_change_permission(request, obj):
            return fieldsets
        return [*fieldsets, ("Audit", {"fields": [REASON_FIELD]})]

    def save_model(self, page, request, obj, form, change, proceed):
        before = _stored_values(obj) if change else {}
        proceed()
        audit_record(
            actor=request.user,
            action="admin.changed" if change else "admin.added",
            obj=obj,
            changes=changes_between(before, field_values(obj)),
            reason=form.cleaned_data.get(REASON_FIELD, ""),
        )

    def save_formset(self, page, request, form, formset, change, proceed):
        reason = form.cleaned_data.get(REASON_FIELD, "")
        befores = {}
        for inline_form in formset.forms:
            instance = inline_form.instance
            if instance.pk and inline_form.has_changed():
                befores[instance.pk] = _stored_values(instance)
                if formset.can_delete and formset._should_delete_form(inline_form):
                    audit_record(
                        actor=request.user,
                        action="admin.deleted",
                        obj=instance,
                        changes=_removed(befores[instance.pk]),
                        reason=reason,
                    )
        proceed()
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

    def delete_model(self, page, request, obj, proceed):
        audit_record(
            actor=request.user,
            action="admin.deleted",
            obj=obj,
            changes=_removed(field_values(obj)),
            reason="Deleted in the admin",
        )
        proceed()


class AuditTrail(AdminExtension):
    """Shows the object's audit trail under its change form."""

    change_form_includes = ("admin/orders/includes/audit_table.html",)

    def change_context(self, page, request, obj):
        content_type = ContentType.objects.get_for_model(obj, for_concrete_model=True)
        events = (
            AuditEvent.objects.filter(content_type=content_type, object_id=str(obj.pk))
            .select_related("actor", "case")
            .order_by("-created_at", "-pk")[:200]
        )
        return {"audit_events": list(events)}


AUDITED = (AuditRecording(), AuditTrail())

for _model in (StockLevel, InboundRun):
    for _extension in AUDITED:
        admin_extend(_model, _extension)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    """The trail is evidence: nobody, superusers included, may edit or delete it."""

    list_display = ["created_at", "what_happened", "content_type", "case"]
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
    fields = ["what_happened", *readonly_fields]

    @admin.display(description="What happened")
    def what_happened(self, event):
        return audit_sentence(event)

    def get_readonly_fields(self, request, obj=None):
        return self.fields

"""Webhook endpoints and their deliveries, each with its attempts; "retry now" sends
failed or waiting deliveries again. Read-only otherwise: deliveries are written by the
events, endpoints by their subscribers through the API. Secrets are never shown."""

from django.contrib import admin, messages

from orders.admin.common import ReadOnlyInline, ReadOnlyModelAdmin
from orders.webhooks.models import Delivery, DeliveryAttempt, Endpoint
from orders.webhooks.services import deliveries_retry_now


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyModelAdmin):
    list_display = ["url", "account", "events", "created_at", "deleted_at"]
    list_filter = [("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["url", "account__number", "account__name"]
    list_select_related = ["account"]
    fields = ["url", "account", "events", "created_by", "created_at", "deleted_at"]
    readonly_fields = fields


class DeliveryAttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ["number", "started_at", "status_code", "duration_ms", "error", "next_retry_at"]
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        # The attempts are part of the delivery: whoever may see it sees them.
        return request.user.has_perm("webhooks.view_delivery")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyModelAdmin):
    list_display = [
        "created_at",
        "event",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "event"]
    search_fields = ["key", "event_id", "endpoint__url"]
    date_hierarchy = "created_at"
    list_select_related = ["endpoint"]
    fields = [
        "event",
        "event_id",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "created_at",
        "delivered_at",
        "key",
        "payload",
    ]
    readonly_fields = fields
    inlines = [DeliveryAttemptInline]
    actions = ["retry_now"]

    def has_retry_permission(self, request):
        return request.user.has_perm("webhooks.retry_delivery")

    @admin.action(description="Retry the selected deliveries now", permissions=["retry"])
    def retry_now(self, request, queryset):
        queued = deliveries_retry_now(delivery_ids=queryset.values_list("pk", flat=True))
        skipped = queryset.count() - queued
        self.message_user(request, f"{queued} delivery(ies) queued to send now.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} left alone: delivered, cancelled or being sent.",
                messages.WARNING,
            )

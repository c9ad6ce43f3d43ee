from django.contrib import admin, messages

from notifications.exceptions import NotResendable
from notifications.models import Message, NotificationPreference
from notifications.services import message_resend


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Read-only view of the outbox; customer service can resend."""

    list_display = ["created_at", "kind", "to_email", "subject", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["key", "to_email", "subject"]
    date_hierarchy = "created_at"
    list_select_related = ["recipient"]
    readonly_fields = [f.name for f in Message._meta.fields]
    actions = ["resend"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_resend_permission(self, request):
        return request.user.has_perm("notifications.resend_message")

    @admin.action(description="Resend the selected messages", permissions=["resend"])
    def resend(self, request, queryset):
        done = 0
        for message in queryset.select_related("recipient"):
            try:
                message_resend(message=message, by_user=request.user)
            except NotResendable as exc:
                self.message_user(request, f"{message.key}: {exc}", messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} message(s) queued to resend.", messages.SUCCESS)


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "enabled", "mode", "updated_at"]
    list_filter = ["kind", "mode", "enabled"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]

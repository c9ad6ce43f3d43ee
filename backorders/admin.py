from django.contrib import admin

from backorders.models import AutoCancellation, DecisionRequest, Receipt, StockShortage


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

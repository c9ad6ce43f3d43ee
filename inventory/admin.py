"""Admin for planners: catalogue, stock levels with ATS, inbound runs and ETA history.

Writes go through inventory services: stock counters never change here, a holdback edit
touches only the holdback, and an ETA moves only through the "Change ETA" action that
backorders adds to the run page. The stock and run pages are ExtensibleAdmin pages: apps
above inventory extend them by registering (see admin_extensions), never by rebuilding."""

import datetime as dt

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html

from inventory import images, services
from inventory.admin_extensions import ExtensibleAdmin
from inventory.models import (
    SKU,
    EtaChange,
    InboundLine,
    InboundRun,
    InboundStatus,
    Season,
    StockLevel,
    Style,
    StyleImage,
    Warehouse,
)


class SKUInline(admin.TabularInline):
    model = SKU
    extra = 0
    fields = ("code", "color", "size", "width", "upc", "price", "msrp", "active", "core")
    show_change_link = True


class StyleImageForm(forms.ModelForm):
    class Meta:
        model = StyleImage
        fields = ("color", "position", "alt_text", "original")

    def clean_original(self):
        """A file Pillow cannot read is refused here, naming the field, before it is stored."""
        original = self.cleaned_data["original"]
        if original and "original" in self.changed_data:
            try:
                images.image_open(original.read())
            except images.BadImage as error:
                raise ValidationError(str(error)) from None
            finally:
                original.seek(0)
        return original


class StyleImageInline(admin.TabularInline):
    model = StyleImage
    form = StyleImageForm
    extra = 0
    fields = ("color", "position", "alt_text", "original", "preview")
    readonly_fields = ("preview",)

    @admin.display(description="Preview")
    def preview(self, image):
        if not image.thumb:
            return "-"
        return format_html(
            '<img src="{}" alt="{}" width="80" height="80">', image.thumb.url, image.description
        )


@admin.register(Season)
class SeasonAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "starts_on")
    search_fields = ("code", "name")


@admin.register(Style)
class StyleAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "name",
        "season",
        "category",
        "gender",
        "replenishment",
        "lead_time_days",
    )
    list_filter = ("season", "replenishment", "category", "gender")
    list_select_related = ("season",)
    search_fields = ("number", "name")
    filter_horizontal = ("alternatives",)
    inlines = [SKUInline, StyleImageInline]

    def save_formset(self, request, form, formset, change):
        """Pictures uploaded here get their page sizes made by the service."""
        super().save_formset(request, form, formset, change)
        if formset.model is StyleImage:
            changed = [obj for obj, fields in formset.changed_objects if "original" in fields]
            for image in formset.new_objects + changed:
                services.style_image_renditions_make(image=image)


@admin.register(SKU)
class SKUAdmin(admin.ModelAdmin):
    list_display = ("code", "style", "color", "size", "width", "upc", "price", "active", "core")
    list_filter = ("active", "core", "quick_ship", "width", "style__replenishment")
    search_fields = ("code", "upc", "style__number", "style__name")
    list_select_related = ("style",)
    autocomplete_fields = ("style",)


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "is_default")


class StockLevelForm(forms.ModelForm):
    holdback = forms.IntegerField(
        min_value=0, help_text="Safety buffer never offered for sale, in pairs."
    )

    class Meta:
        model = StockLevel
        fields = ("holdback",)


@admin.register(StockLevel)
class StockLevelAdmin(ExtensibleAdmin):
    """Counts move only through orders, receipts and stock syncs; the holdback (safety
    buffer never offered) is the planner's per-level override."""

    form = StockLevelForm
    list_display = ("sku", "style", "warehouse", "on_hand", "allocated", "holdback", "ats")
    list_editable = ("holdback",)
    list_filter = ("warehouse", "sku__style__replenishment", "sku__core")
    search_fields = ("sku__style__number", "sku__code", "sku__upc")
    list_select_related = ("sku__style", "warehouse")
    readonly_fields = ("sku", "warehouse", "on_hand", "allocated", "ats")
    fields = ("sku", "warehouse", "on_hand", "allocated", "holdback", "ats")

    def get_queryset(self, request):
        return super().get_queryset(request).with_ats()

    @admin.display(description="ATS", ordering="ats_now")
    def ats(self, level):
        return level.ats_now

    @admin.display(description="Style", ordering="sku__style__number")
    def style(self, level):
        return level.sku.style.number

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def write_model(self, request, obj, form, change):
        services.stock_holdback_set(stock_level_id=obj.pk, holdback=obj.holdback)


class InboundLineForm(forms.ModelForm):
    class Meta:
        model = InboundLine
        fields = ("sku", "quantity")

    def clean(self):
        cleaned = super().clean()
        line = self.instance
        if line.pk and cleaned.get("sku") and cleaned["sku"].pk != line.sku_id:
            self.add_error("sku", "Add a new line instead of changing this line's SKU.")
        quantity = cleaned.get("quantity")
        if line.pk and quantity is not None and quantity < line.received + line.promised:
            self.add_error(
                "quantity",
                f"At least {line.received + line.promised}: {line.received} received and "
                f"{line.promised} promised to backorders.",
            )
        return cleaned


class InboundLineInline(admin.TabularInline):
    model = InboundLine
    form = InboundLineForm
    extra = 0
    min_num = 1
    fields = ("sku", "quantity", "received", "promised")
    readonly_fields = ("received", "promised")
    autocomplete_fields = ("sku",)
    can_delete = False

    def get_formset(self, request, obj=None, **kwargs):
        # A run needs at least one line (the form says so rather than the service).
        return super().get_formset(request, obj, validate_min=True, **kwargs)


class EtaChangeInline(admin.TabularInline):
    model = EtaChange
    extra = 0
    fields = ("changed_at", "old_eta", "new_eta", "reason", "changed_by")
    readonly_fields = fields
    can_delete = False
    ordering = ("-changed_at", "-pk")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class InboundRunForm(forms.ModelForm):
    status = forms.ChoiceField(
        choices=[(s.value, s.label) for s in InboundStatus if s in services.UPSERT_STATUSES],
        help_text="A run becomes received through its receipt, which puts the stock away.",
    )

    class Meta:
        model = InboundRun
        fields = ("reference", "factory", "warehouse", "status", "eta")

    def clean_eta(self):
        eta = self.cleaned_data["eta"]
        today = timezone.localdate()
        earliest = today - dt.timedelta(days=services.ETA_DAYS_BACK)
        latest = today + dt.timedelta(days=services.ETA_DAYS_AHEAD)
        if not earliest <= eta <= latest:
            raise ValidationError(f"Enter a date between {earliest} and {latest}.")
        return eta


@admin.register(InboundRun)
class InboundRunAdmin(ExtensibleAdmin):
    form = InboundRunForm
    list_display = ("reference", "factory", "warehouse", "status", "eta", "updated_at")
    list_filter = ("status", "warehouse", "factory")
    search_fields = ("reference", "factory", "lines__sku__code", "lines__sku__style__number")
    date_hierarchy = "eta"
    inlines = [InboundLineInline, EtaChangeInline]

    def get_readonly_fields(self, request, obj=None):
        # The ETA of an existing run moves only through the "Change ETA" action, which the
        # backorders engine adds (it re-dates pegged lines and tells the retailers).
        return ("reference", "eta") if obj is not None else ()

    def has_change_permission(self, request, obj=None):
        # A received or cancelled run is history: it can be viewed, not changed.
        if obj is not None and not obj.is_open:
            return False
        return super().has_change_permission(request, obj)

    def _create_formsets(self, request, obj, change):
        formsets, inline_instances = super()._create_formsets(request, obj, change)
        request.inbound_line_formsets = [f for f in formsets if f.model is InboundLine]
        return formsets, inline_instances

    def write_model(self, request, obj, form, change):
        """The run and its lines are written by inventory.services.inbound_run_upsert."""
        lines = [
            services.InboundLineInput(data["sku"].code, data["quantity"])
            for formset in getattr(request, "inbound_line_formsets", [])
            for data in (line_form.cleaned_data for line_form in formset.forms)
            if data and data.get("sku") and data.get("quantity") is not None
        ]
        # The admin already runs the change form in one transaction.
        result = services.inbound_run_write(
            data=services.InboundRunInput(
                reference=obj.reference,
                eta=obj.eta,
                lines=lines,
                status=form.cleaned_data.get("status"),
                factory=form.cleaned_data.get("factory", ""),
                warehouse=obj.warehouse.code,
            )
        )
        obj.pk = result.run.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # The lines were written with the run in save_model; nothing else to save.
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


@admin.register(EtaChange)
class EtaChangeAdmin(admin.ModelAdmin):
    list_display = ("run", "old_eta", "new_eta", "reason", "changed_by", "changed_at")
    list_filter = ("changed_at",)
    search_fields = ("run__reference", "reason")
    list_select_related = ("run", "changed_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

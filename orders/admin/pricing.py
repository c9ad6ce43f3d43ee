"""Admin for price lists: the list, its explicit prices and the accounts that buy on it.
Placed order lines keep their prices: editing a list changes only what is ordered next."""

from django.contrib import admin

from inventory.models import PriceList, PriceListItem
from orders.models import PriceListAssignment


class PriceListItemInline(admin.TabularInline):
    model = PriceListItem
    extra = 0
    fields = ("style", "sku", "price")
    autocomplete_fields = ("style", "sku")


class PriceListAssignmentInline(admin.TabularInline):
    model = PriceListAssignment
    extra = 0
    autocomplete_fields = ("account",)
    verbose_name = "account buying on this list"


@admin.register(PriceList)
class PriceListAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "percent_off", "starts_on", "ends_on")
    search_fields = ("code", "name")
    date_hierarchy = "starts_on"
    inlines = [PriceListAssignmentInline, PriceListItemInline]

"""Admin for people (staff roles as groups) and the service desk's "Find anything" page."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import path

from inventory.models import SKU
from inventory.parsing import natural_number
from orders.models import (
    Account,
    Case,
    CreditMemo,
    Invoice,
    Order,
    OrderLine,
    ReturnAuthorization,
    Shipment,
)
from portal.models import User
from portal.roles import StaffRole

SEARCH_LIMIT = 20


class UserCreateForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "full_name"]


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Staff open the admin only with is_staff; their role is a group from portal.roles.
    Retailers and reps never get is_staff."""

    form = UserEditForm
    add_form = UserCreateForm
    list_display = ["email", "full_name", "is_staff", "is_sales_rep", "roles", "is_active"]
    list_filter = ["is_staff", "is_sales_rep", "is_active", "groups"]
    search_fields = ["email", "full_name"]
    ordering = ["email"]
    filter_horizontal = ["groups", "user_permissions"]
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name"]}),
        (
            "Access",
            {
                "fields": ["is_active", "is_sales_rep", "is_staff", "is_superuser", "groups"],
                "description": "Staff roles: "
                + ", ".join(role.value for role in StaffRole)
                + ". Retailer buyers and sales reps are never staff.",
            },
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "full_name", "usable_password", "password1", "password2"],
            },
        )
    ]
    readonly_fields = ["last_login", "date_joined"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="Roles")
    def roles(self, obj):
        return ", ".join(group.name for group in obj.groups.all()) or "—"

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "groups" in form.base_fields:
            form.base_fields["groups"].queryset = Group.objects.order_by("name")
        return form


# --- Find anything ---------------------------------------------------------------------


# Each section of the search, and the permission a viewer needs to see it: a planner
# finds SKUs and no prices, invoices, balances or credit status.
SEARCH_SECTIONS = {
    "orders": "orders.view_order",
    "accounts": "orders.view_account",
    "skus": "inventory.view_sku",
    "orders_with_sku": "orders.view_order",
    "invoices": "orders.view_invoice",
    "credit_memos": "orders.view_creditmemo",
    "shipments": "orders.view_shipment",
    "returns": "orders.view_returnauthorization",
    "cases": "orders.view_case",
}
# Prices are commercial terms: shown to who may see orders, not to every SKU viewer.
PRICE_PERMISSION = "orders.view_order"


def service_search(*, query: str, user) -> dict:
    """Orders, accounts, SKUs, invoices, credit memos, shipments, returns and cases
    matching what a caller read out: a number, a PO, a name, a SKU or UPC, a tracking
    number; only the sections ``user`` may view. At most SEARCH_LIMIT of each, in a
    fixed number of queries."""
    q = " ".join(query.split())[:100]
    if not q:
        return {}
    allowed = {name for name, perm in SEARCH_SECTIONS.items() if user.has_perm(perm)}
    # The sections are lazy querysets: one the viewer may not see is never run.
    return {name: list(rows) for name, rows in _search_sections(q).items() if name in allowed}


def _search_sections(q: str) -> dict:
    exact = q.upper()
    sku_ids = SKU.objects.filter(Q(code__iexact=q) | Q(upc=q)).values("pk")
    case_filter = (
        Q(account__name__icontains=q)
        | Q(order__number__iexact=q)
        | Q(pk__in=Case.objects.with_number(q).values("pk"))
    )
    case_pk = natural_number(q)
    if case_pk is not None:
        case_filter |= Q(pk=case_pk)
    return {
        "orders": Order.objects.filter(
            Q(number__iexact=q)
            | Q(po_number__icontains=q)
            | Q(pk__in=Invoice.objects.filter(number__iexact=q).values("order_id"))
            | Q(pk__in=Shipment.objects.filter(tracking__icontains=q).values("order_id"))
        )
        .select_related("account")
        .order_by("-placed_at", "-pk")[:SEARCH_LIMIT],
        "accounts": Account.objects.filter(Q(name__icontains=q) | Q(number__iexact=q)).order_by(
            "name"
        )[:SEARCH_LIMIT],
        "skus": SKU.objects.filter(
            Q(code__iexact=q) | Q(upc=q) | Q(code__istartswith=exact)
        ).select_related("style")[:SEARCH_LIMIT],
        "orders_with_sku": Order.objects.filter(
            pk__in=OrderLine.objects.filter(sku_id__in=sku_ids).values("order_id")
        )
        .select_related("account")
        .order_by("-placed_at", "-pk")[:SEARCH_LIMIT],
        "invoices": Invoice.objects.filter(Q(number__iexact=q) | Q(order__number__iexact=q))
        .select_related("account", "order")
        .order_by("-issued_on")[:SEARCH_LIMIT],
        "credit_memos": CreditMemo.objects.filter(number__iexact=q).select_related("invoice")[
            :SEARCH_LIMIT
        ],
        "shipments": Shipment.objects.filter(Q(tracking__icontains=q) | Q(number__iexact=q))
        .select_related("order__account")
        .order_by("-shipped_at")[:SEARCH_LIMIT],
        "returns": ReturnAuthorization.objects.filter(number__iexact=q).select_related(
            "account", "order"
        )[:SEARCH_LIMIT],
        "cases": Case.objects.filter(case_filter)
        .select_related("account", "order")
        .order_by("-opened_at")[:SEARCH_LIMIT],
    }


class SearchForm(forms.Form):
    q = forms.CharField(max_length=100, required=False, label="Find")


def service_search_view(request):
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    results = service_search(query=query, user=request.user) if query else {}
    context = {
        **admin.site.each_context(request),
        "title": "Find anything",
        "service_query": query,
        "results": results,
        "found": any(results.values()),
        "show_prices": request.user.has_perm(PRICE_PERMISSION),
    }
    return TemplateResponse(request, "admin/service/search.html", context)


def _with_service_urls(get_urls):
    def get_service_urls():
        return [
            path(
                "service/search/",
                admin.site.admin_view(service_search_view),
                name="service_search",
            ),
            *get_urls(),
        ]

    return get_service_urls


# The project keeps Django's default admin site; its one site-wide page is added here.
admin.site.get_urls = _with_service_urls(admin.site.get_urls)
admin.site.site_header = "Trailwise service desk"
admin.site.site_title = "Trailwise admin"
admin.site.index_title = "Service desk"

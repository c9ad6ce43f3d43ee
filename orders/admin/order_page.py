"""The order page: everything about one order in a fixed number of queries, and the
view that runs the registered order actions (order_actions) from it."""

import json

from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from inventory.admin_extensions import ExtensibleAdmin
from inventory.parsing import natural_number
from inventory.selectors import run_etas
from notifications.models import Message
from orders import selectors
from orders.admin.audit import AuditRecording
from orders.admin.credit_holds import CreditHoldFilter
from orders.admin.exports import export_csv_action
from orders.admin.order_actions import action_run, order_action, order_actions_for
from orders.models import (
    AuditEvent,
    BackorderPeg,
    CaseStatus,
    CreditApproval,
    Invoice,
    Order,
)


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


def _staff_actions(order, invoices) -> list:
    invoice_type = ContentType.objects.get_for_model(Invoice)
    order_type = ContentType.objects.get_for_model(Order)
    return list(
        AuditEvent.objects.filter(
            Q(content_type=order_type, object_id=str(order.pk))
            | Q(content_type=invoice_type, object_id__in=[str(i.pk) for i in invoices])
            | Q(case__order=order)
        )
        .select_related("actor", "case", "content_type")
        .order_by("-created_at", "-pk")[:200]
    )


def order_story(order, *, user) -> dict:
    """Everything about one order ``user`` may see, in a fixed number of queries: each
    section (cases, shipments, invoices and credits, returns, decisions, messages, staff
    actions) only with the view permission for it; the store's changes to it always."""
    may = user.has_perm
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
    shipments = (
        list(order.shipments.prefetch_related("lines__order_line__sku"))
        if may("orders.view_shipment")
        else []
    )
    invoices = (
        list(order.invoices.prefetch_related("lines", "credit_memos__created_by", "payments"))
        if may("orders.view_invoice")
        else []
    )
    returns = (
        list(order.returns.prefetch_related("lines__order_line__sku"))
        if may("orders.view_returnauthorization")
        else []
    )
    decision_model = _decision_model()
    decisions = (
        list(
            decision_model.objects.filter(line__order=order)
            .select_related("line__sku", "run")
            .order_by("-created_at")
        )
        if decision_model and may("backorders.view_decisionrequest")
        else []
    )
    cases = (
        list(order.cases.select_related("opened_by", "resolved_by"))
        if may("orders.view_case")
        else []
    )
    credit_requests = (
        list(
            CreditApproval.objects.filter(invoice__order=order).select_related(
                "invoice", "requested_by", "decided_by", "credit_memo", "case"
            )
        )
        if may("orders.view_invoice") and may("orders.view_creditapproval")
        else []
    )
    actions = _staff_actions(order, invoices) if may("orders.view_auditevent") else []
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
        "order_messages": list(order_messages(order)) if may("notifications.view_message") else [],
        "staff_actions": actions,
        "edits": list(order.edits.select_related("user")),
        "runs": sorted(runs.values(), key=lambda pair: (pair[1], pair[0].pk)),
        "totals": {
            "quantity": sum(line.quantity for line in lines),
            "allocated": sum(line.allocated for line in lines),
            "backordered": sum(line.backordered for line in lines),
            "shipped": sum(line.shipped for line in lines),
            "cancelled": sum(line.cancelled for line in lines),
        },
    }


@admin.register(Order)
class OrderAdmin(ExtensibleAdmin):
    extensions = (AuditRecording(),)
    list_display = ["number", "account", "po_number", "status", "source", "total", "placed_at"]
    list_filter = ["status", CreditHoldFilter, "source", "no_charge"]
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
            extra_context.update(order_story(order, user=request.user))
            extra_context["service_actions"] = [
                (action.slug, action.title) for action in order_actions_for(request.user)
            ]
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def get_object(self, request, object_id, from_field=None):
        queryset = self.get_queryset(request).select_related(
            "account", "terms", "ship_to", "placed_by", "credit_released_by"
        )
        try:
            return queryset.get(pk=int(object_id))
        except (Order.DoesNotExist, ValueError, TypeError):
            return None

    def service_action_view(self, request, object_id, action):
        chosen = order_action(action)
        if chosen is None:
            raise PermissionDenied("Unknown action.")
        if not self.has_view_permission(request) or not request.user.has_perm(chosen.permission):
            raise PermissionDenied
        order = get_object_or_404(Order.objects.select_related("account", "ship_to"), pk=object_id)
        presets = {name: natural_number(request.GET.get(name)) for name in chosen.query_initial}
        initial = {name: value for name, value in presets.items() if value is not None}
        form = chosen.form(request.POST or None, order=order, initial=initial)
        if request.method == "POST" and form.is_valid():
            done = action_run(chosen, form=form, request=request, order=order)
            if done is not None:
                self.message_user(request, done.message, done.level)
                return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"{chosen.title}: {order.number}",
            "submit_label": chosen.title,
            "case": None,
            "subtitle": order.account.name,
            "order": order,
            "form": form,
            "line_fields": [form[name] for name, _ in form.line_fields],
            "opts": self.opts,
            "action": action,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/orders/order/service_action.html", context)

"""Fulfilment API v1: the warehouse's shipment confirmation (staff), and the retailer's
shipments, invoices and invoice PDFs (scoped to the caller's accounts)."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from orders.api.documents import IssuedDocumentPdfView
from orders.api.exports import ExportableListMixin, exportable_list_schema
from orders.exceptions import OrderOnCreditHold
from orders.exports import INVOICES, SHIPMENTS
from orders.models import Invoice, InvoiceStatus, Order, Shipment
from orders.selectors import accounts_visible_to
from orders.services.fulfilment import shipment_confirm, shipment_packages
from restapi.errors import ErrorSerializer, error_response
from restapi.permissions import HasStaffPermission
from restapi.serializers import StrictFieldsMixin

# --- Serializers -------------------------------------------------------------------------


class ShipmentLineInSerializer(StrictFieldsMixin, serializers.Serializer):
    sku = serializers.CharField(max_length=40)
    quantity = serializers.IntegerField()


class ShipmentInSerializer(StrictFieldsMixin, serializers.Serializer):
    order = serializers.CharField(max_length=20, help_text="Order number, e.g. SO-100042.")
    carrier = serializers.CharField(max_length=40, help_text="UPS, FedEx, USPS, DHL or other.")
    tracking = serializers.CharField(
        max_length=400, help_text="One or more tracking numbers, separated by spaces or commas."
    )
    lines = ShipmentLineInSerializer(many=True, allow_empty=False, max_length=500)


class PackageSerializer(serializers.Serializer):
    tracking = serializers.CharField()
    tracking_url = serializers.CharField()


class ShipmentLineOutSerializer(serializers.Serializer):
    sku = serializers.CharField(source="order_line.sku.code")
    quantity = serializers.IntegerField()


class ShipmentOutSerializer(serializers.Serializer):
    number = serializers.CharField()
    account = serializers.CharField(source="order.account.number")
    order = serializers.CharField(source="order.number")
    po_number = serializers.CharField(source="order.po_number")
    carrier = serializers.CharField()
    shipped_at = serializers.DateTimeField()
    packages = serializers.SerializerMethodField()
    lines = ShipmentLineOutSerializer(many=True)
    invoice = serializers.SerializerMethodField()

    def get_packages(self, shipment) -> list[dict]:
        return PackageSerializer(shipment_packages(shipment), many=True).data

    def get_invoice(self, shipment) -> str | None:
        invoice = getattr(shipment, "invoice", None)
        return invoice.number if invoice else None


class InvoiceLineOutSerializer(serializers.Serializer):
    sku = serializers.CharField(source="order_line.sku.code")
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)


class InvoiceOutSerializer(serializers.Serializer):
    number = serializers.CharField()
    account = serializers.CharField(source="account.number")
    order = serializers.CharField(source="order.number")
    po_number = serializers.CharField(source="order.po_number")
    shipment = serializers.CharField(source="shipment.number")
    issued_on = serializers.DateField()
    due_on = serializers.DateField()
    terms = serializers.CharField(source="terms_label")
    status = serializers.CharField(source="display_status")
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    freight = serializers.DecimalField(max_digits=12, decimal_places=2)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    paid = serializers.DecimalField(source="paid_amount", max_digits=12, decimal_places=2)
    credited = serializers.DecimalField(source="credited_amount", max_digits=12, decimal_places=2)
    balance = serializers.DecimalField(max_digits=12, decimal_places=2)
    pdf_ready = serializers.SerializerMethodField()

    def get_pdf_ready(self, invoice) -> bool:
        return bool(invoice.pdf)


class InvoiceLinesOutSerializer(InvoiceOutSerializer):
    lines = InvoiceLineOutSerializer(many=True)


class ShipmentCreatedSerializer(serializers.Serializer):
    shipment = ShipmentOutSerializer()
    invoice = InvoiceLinesOutSerializer()


# --- Views ---------------------------------------------------------------------------------


class ShipmentListCreateView(ExportableListMixin, ListAPIView):
    """GET: the shipments of the caller's accounts, newest first, with tracking links.
    POST (brand staff with orders.add_shipment): the warehouse confirms a shipment."""

    permission_classes = [
        IsAuthenticated,
        HasStaffPermission.require("orders.add_shipment", methods=["POST"]),
    ]
    serializer_class = ShipmentOutSerializer
    export = SHIPMENTS

    def get_queryset(self):
        return (
            Shipment.objects.for_accounts(accounts_visible_to(user=self.request.user))
            .select_related("order__account", "invoice")
            .prefetch_related("lines__order_line__sku")
            .order_by("-shipped_at", "-pk")
        )

    @exportable_list_schema(ShipmentOutSerializer)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=ShipmentInSerializer,
        responses={
            201: ShipmentCreatedSerializer,
            200: ShipmentCreatedSerializer,
            409: OpenApiResponse(
                ErrorSerializer,
                description="The order is on credit hold: it ships once released.",
            ),
        },
    )
    def post(self, request):
        data = ShipmentInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        order = Order.objects.select_related("account").filter(number=body["order"]).first()
        if order is None:
            return error_response("Invalid input.", {"order": ["No such order."]})
        try:
            result = shipment_confirm(
                order=order,
                carrier=body["carrier"],
                tracking=body["tracking"],
                lines=[(line["sku"], line["quantity"]) for line in body["lines"]],
                user=request.user,
            )
        except OrderOnCreditHold as held:
            return error_response(
                "The order is on credit hold.", held.message_dict, status.HTTP_409_CONFLICT
            )
        invoice = (
            Invoice.objects.with_display_status(today=timezone.localdate())
            .with_balance()
            .select_related("account", "order", "shipment")
            .prefetch_related("lines__order_line__sku")
            .get(pk=result.invoice.pk)
        )
        shipment = (
            Shipment.objects.select_related("order__account", "invoice")
            .prefetch_related("lines__order_line__sku")
            .get(pk=result.shipment.pk)
        )
        payload = ShipmentCreatedSerializer({"shipment": shipment, "invoice": invoice}).data
        return Response(payload, status=status.HTTP_201_CREATED if result.created else 200)


STATUS_PARAMETER = OpenApiParameter(
    name="status",
    type=OpenApiTypes.STR,
    enum=[s.value for s in InvoiceStatus],
    description='Filter: "overdue" means open and past its due date.',
)


class InvoiceListView(ExportableListMixin, ListAPIView):
    """The invoices of the caller's accounts, newest first; ?status=open|overdue|paid|credited."""

    serializer_class = InvoiceOutSerializer
    filter_backends = []
    export = INVOICES

    def get_queryset(self):
        today = timezone.localdate()
        invoices = Invoice.objects.for_accounts(accounts_visible_to(user=self.request.user))
        wanted = self.request.query_params.get("status", "")
        if wanted:
            if wanted not in InvoiceStatus.values:
                raise serializers.ValidationError(
                    {"status": [f"Choose one of: {', '.join(InvoiceStatus.values)}."]}
                )
            invoices = invoices.with_status(wanted, today=today)
        return (
            invoices.with_display_status(today=today)
            .with_balance()
            .select_related("account", "order", "shipment")
            .order_by("-issued_on", "-pk")
        )

    @exportable_list_schema(InvoiceOutSerializer, parameters=[STATUS_PARAMETER])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class InvoicePdfView(IssuedDocumentPdfView):
    """The invoice PDF (application/pdf). 404 for an invoice outside the caller's accounts.
    One not rendered yet is queued for rendering at once, ahead of the backlog, and
    answers 202 Accepted with Retry-After: ask again then."""

    kind = "invoice"

    def documents(self, *, accounts):
        return Invoice.objects.for_accounts(accounts)

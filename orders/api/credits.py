"""Credit memos in API v1: the list for the caller's accounts and each memo's PDF."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from orders.api.fulfilment import DocumentPreparingSerializer, document_pdf_response
from orders.credit_selectors import credit_memos_for
from orders.selectors import accounts_visible_to
from restapi.renderers import PDFRenderer


class CreditMemoOutSerializer(serializers.Serializer):
    number = serializers.CharField()
    account = serializers.CharField(source="invoice.account.number")
    invoice = serializers.CharField(source="invoice.number")
    order = serializers.CharField(source="invoice.order.number")
    po_number = serializers.CharField(source="invoice.order.po_number")
    issued_on = serializers.DateField()
    reason = serializers.CharField()
    reason_label = serializers.CharField(source="get_reason_display")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    note = serializers.CharField()
    pdf_ready = serializers.SerializerMethodField()

    def get_pdf_ready(self, memo) -> bool:
        return bool(memo.pdf)


class CreditMemoListView(ListAPIView):
    """The credit memos on the caller's accounts' invoices, newest first."""

    serializer_class = CreditMemoOutSerializer
    filter_backends = []

    def get_queryset(self):
        return credit_memos_for(accounts=accounts_visible_to(user=self.request.user))


class CreditMemoPdfView(APIView):
    """The credit memo PDF (application/pdf). 404 for a memo outside the caller's
    accounts; 202 with Retry-After while a worker still renders it."""

    renderer_classes = [JSONRenderer, PDFRenderer]

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
            (202, "application/json"): OpenApiResponse(
                DocumentPreparingSerializer,
                description="Not rendered yet; its render is queued. Retry after Retry-After.",
            ),
        }
    )
    def get(self, request, number):
        memo = (
            credit_memos_for(accounts=accounts_visible_to(user=request.user))
            .filter(number=number)
            .first()
        )
        if memo is None:
            raise Http404("No such credit memo.")
        return document_pdf_response(kind="credit_memo", document=memo)

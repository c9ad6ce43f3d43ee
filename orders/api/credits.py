"""Credit memos in API v1: the list for the caller's accounts and each memo's PDF."""

from rest_framework import serializers
from rest_framework.generics import ListAPIView

from orders.api.documents import IssuedDocumentPdfView
from orders.credit_selectors import credit_memos_for
from orders.selectors import accounts_visible_to
from restapi.figures import FiguresKeptListMixin


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


class CreditMemoListView(FiguresKeptListMixin, ListAPIView):
    """The credit memos on the caller's accounts' invoices, newest first."""

    serializer_class = CreditMemoOutSerializer
    figures_name = "credit-memos-api"
    filter_backends = []

    def get_queryset(self):
        return credit_memos_for(accounts=accounts_visible_to(user=self.request.user))


class CreditMemoPdfView(IssuedDocumentPdfView):
    """The credit memo PDF (application/pdf). 404 for a memo outside the caller's
    accounts; 202 with Retry-After while a worker still renders it."""

    kind = "credit_memo"

    def documents(self, *, accounts):
        return credit_memos_for(accounts=accounts)

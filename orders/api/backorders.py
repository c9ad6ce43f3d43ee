"""GET /api/v1/backorders/: the open backordered lines of the caller's accounts, each
with its expected date (the ETA table's selector) and the end of the window it is held
for; `?format=csv|xlsx` is the portal's backorders export of the same rows."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from orders.api.exports import ExportableListMixin, exportable_list_schema
from orders.exports import BACKORDERS
from orders.models import OrderLine
from orders.selectors import accounts_visible_to, lines_dated
from restapi.figures import FiguresKeptListMixin

ORDER_PARAMETER = OpenApiParameter(
    name="order", type=OpenApiTypes.STR, description="Only this order's lines (its number)."
)


class BackorderOutSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The order line.")
    account = serializers.CharField(source="order.account.number")
    order = serializers.CharField(source="order.number")
    po_number = serializers.CharField(source="order.po_number")
    placed_at = serializers.DateTimeField(source="order.placed_at")
    sku = serializers.CharField(source="sku.code")
    style = serializers.CharField(source="sku.style.number")
    name = serializers.CharField(source="sku.style.name")
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2)
    backordered = serializers.IntegerField()
    expected_date = serializers.DateField(allow_null=True)
    expected_basis = serializers.CharField(help_text="What the expected date rests on.")
    window_end = serializers.DateField(
        allow_null=True, help_text="Held until: past it, the line is cancelled or you decide."
    )


class BackorderListView(ExportableListMixin, FiguresKeptListMixin, ListAPIView):
    """Open backorders of the caller's accounts, oldest order first; ?order= for one."""

    serializer_class = BackorderOutSerializer
    figures_name = "backorders-api"
    filter_backends = []
    export = BACKORDERS

    def get_queryset(self):
        lines = OrderLine.objects.filter(
            order__account__in=accounts_visible_to(user=self.request.user), backordered__gt=0
        )
        if order := self.request.query_params.get("order", "").strip():
            lines = lines.filter(order__number=order)
        return lines.select_related("order__account", "sku__style").order_by(
            "order__placed_at", "order", "pk"
        )

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        lines_dated(page)  # expected dates: one read per page
        return page

    @exportable_list_schema(BackorderOutSerializer, parameters=[ORDER_PARAMETER])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

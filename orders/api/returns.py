"""Returns in API v1: the warehouse (staff / integration) records a return's receipt."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.models import ReturnAuthorization
from orders.services import returns
from restapi.permissions import HasStaffPermission
from restapi.serializers import StrictFieldsMixin


class ReturnReceiveLineSerializer(StrictFieldsMixin, serializers.Serializer):
    sku = serializers.CharField(max_length=40)
    quantity = serializers.IntegerField(min_value=0, max_value=100000)


class ReturnReceiveInSerializer(StrictFieldsMixin, serializers.Serializer):
    lines = ReturnReceiveLineSerializer(many=True, required=False)


class ReturnLineOutSerializer(serializers.Serializer):
    sku = serializers.CharField(source="order_line.sku.code")
    quantity = serializers.IntegerField()
    received = serializers.IntegerField(source="pairs_received")


class ReturnOutSerializer(serializers.Serializer):
    number = serializers.CharField()
    account = serializers.CharField(source="account.number")
    order = serializers.CharField(source="order.number")
    status = serializers.CharField()
    received_at = serializers.DateTimeField(allow_null=True)
    lines = ReturnLineOutSerializer(many=True)


class ReturnReceiveView(APIView):
    """The warehouse received a return: pairs per SKU (no lines: everything authorized).
    Sent twice, the second answer is the return as it stands."""

    permission_classes = [
        IsAuthenticated,
        HasStaffPermission.require("orders.change_returnauthorization"),
    ]

    @extend_schema(request=ReturnReceiveInSerializer, responses=ReturnOutSerializer)
    def post(self, request, number):
        serializer = ReturnReceiveInSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        authorization = ReturnAuthorization.objects.filter(number=number).first()
        if authorization is None:
            raise Http404("No return with this number.")
        lines = serializer.validated_data.get("lines")
        received = returns.return_receive(
            authorization=authorization,
            user=request.user,
            lines=None if lines is None else [dict(row) for row in lines],
        )
        return Response(
            ReturnOutSerializer(returns.return_detail(authorization_id=received.pk)).data
        )

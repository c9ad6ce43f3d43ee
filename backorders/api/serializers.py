from rest_framework import serializers

from backorders.models import DecisionAction


class DecisionInSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=DecisionAction.values)
    sku = serializers.CharField(required=False, allow_blank=True, max_length=40)


class EtaChangeInSerializer(serializers.Serializer):
    eta = serializers.DateField()
    reason = serializers.CharField(max_length=500)


class ReceiveLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=40)
    quantity = serializers.IntegerField(min_value=1)


class ReceiveInSerializer(serializers.Serializer):
    lines = ReceiveLineSerializer(many=True, required=False)


class StockCountSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=40)
    warehouse = serializers.CharField(max_length=10, required=False, allow_blank=True)
    on_hand = serializers.IntegerField(min_value=0)


class OrderLineOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.CharField(source="order.number")
    sku = serializers.CharField(source="sku.code")
    quantity = serializers.IntegerField()
    allocated = serializers.IntegerField()
    backordered = serializers.IntegerField()
    shipped = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    window_end = serializers.DateField(allow_null=True)
    substitute_for = serializers.IntegerField(source="substitute_for_id", allow_null=True)

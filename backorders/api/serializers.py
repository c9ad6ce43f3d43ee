from rest_framework import serializers

from backorders.models import DecisionAction
from restapi.serializers import StrictFieldsMixin


class DecisionInSerializer(StrictFieldsMixin, serializers.Serializer):
    action = serializers.ChoiceField(choices=DecisionAction.values)
    sku = serializers.CharField(required=False, allow_blank=True, max_length=40)


class EtaChangeInSerializer(StrictFieldsMixin, serializers.Serializer):
    eta = serializers.DateField()
    reason = serializers.CharField(max_length=500)


class RunCancelInSerializer(StrictFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class RunCancelOutSerializer(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.CharField()
    lines_repegged = serializers.IntegerField()
    lines_cancelled = serializers.IntegerField()


class ReceiveLineSerializer(StrictFieldsMixin, serializers.Serializer):
    sku = serializers.CharField(max_length=40)
    quantity = serializers.IntegerField(min_value=1)


class ReceiveInSerializer(StrictFieldsMixin, serializers.Serializer):
    lines = ReceiveLineSerializer(many=True, required=False)


class StockCountSerializer(StrictFieldsMixin, serializers.Serializer):
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


class DecisionOutSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=DecisionAction.values)
    decision = serializers.CharField(
        allow_null=True, help_text="The decision request's status, when there was one."
    )
    line = OrderLineOutSerializer()
    new_line = OrderLineOutSerializer(
        allow_null=True, help_text="The alternative's new line, after a switch."
    )


class EtaChangeOutSerializer(serializers.Serializer):
    reference = serializers.CharField()
    old_eta = serializers.DateField()
    eta = serializers.DateField()
    lines_moved = serializers.IntegerField()
    decision_requests = serializers.IntegerField()
    accounts_told = serializers.IntegerField()


class ReceiveOutSerializer(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.CharField()
    receipt = serializers.IntegerField(allow_null=True)
    received = serializers.DictField(
        child=serializers.IntegerField(), help_text="Pairs received per SKU code."
    )
    filled_backorders = serializers.DictField(
        child=serializers.IntegerField(), help_text="Pairs that went to backorders per SKU code."
    )


class StockSyncOutSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    changed = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    shortages = serializers.IntegerField()
    backordered = serializers.IntegerField(help_text="Pairs moved to backorder.")
    cancelled = serializers.IntegerField(help_text="Pairs cancelled.")

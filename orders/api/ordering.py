"""Orders API v1: place, list, read and cancel orders. Serializers parse and type-check;
the work is done by orders.services (the same functions the portal calls)."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.api.accounts import account_from
from orders.api.exports import ExportableListMixin, exportable_list_schema
from orders.exceptions import IdempotencyKeyInFlight, IdempotencyKeyReused, OrderNotAllowed
from orders.exports import ORDERS
from orders.models import BackorderPolicy, Order, OrderSource
from orders.selectors import (
    OrderFilterSet,
    line_promises,
    order_for_user,
    orders_visible_to,
)
from orders.services import CancelRequest, LineRequest, order_cancel, order_place
from orders.services.order_edits import ReduceRequest, order_edit
from restapi.errors import ErrorSerializer, error_response
from restapi.serializers import StrictFieldsMixin

IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Optional. A key unique per order attempt (at most 255 printable characters), "
    "per account: a retry with the same key and body returns the same order (200); the same "
    "key with another body is refused (422); the same key while the first request is still "
    "being processed is refused (409: retry shortly). Without a key every request places a "
    "new order, so send one whenever a request may be retried.",
)


# --- Serializers -------------------------------------------------------------------------


def _iso_date(value) -> str | None:
    return value.isoformat() if value else None


# The representations below are written out field by field: DRF's generic per-field path,
# and even reaching a serializer's own fields (deep-copied from the class's on first use
# by every instance), was a third of an order response's time. These unbound fields
# format a value exactly as the declared ones do (tests/orders/test_orders_api.py).
_PRICE = serializers.DecimalField(max_digits=10, decimal_places=2)
_MONEY = serializers.DecimalField(max_digits=12, decimal_places=2)
_DATETIME = serializers.DateTimeField()


def _line_out(line, promises) -> dict:
    """LineOutSerializer's fields; ``promises``: {line id: Promise} of backordered lines."""
    promise = promises.get(line.pk)
    return {
        "id": line.pk,
        "sku": line.sku.code,
        "quantity": line.quantity,
        "allocated": line.allocated,
        "backordered": line.backordered,
        "shipped": line.shipped,
        "cancelled": line.cancelled,
        "unit_price": _PRICE.to_representation(line.unit_price),
        "promised_date": _iso_date(line.promised_date),
        "expected_date": promise.date.isoformat() if promise else None,
        "expected_basis": promise.basis if promise else "",
        "cancel_reason": line.cancel_reason,
    }


def _credit_hold_out(order) -> dict:
    """CreditHoldSerializer's fields."""
    return {
        "held": order.on_credit_hold,
        "held_at": _DATETIME.to_representation(order.credit_held_at)
        if order.credit_held_at
        else None,
        "released_at": _DATETIME.to_representation(order.credit_released_at)
        if order.credit_released_at
        else None,
        "reasons": [
            {key: reason.get(key, "") for key in ("code", "reason", "release")}
            for reason in order.credit_hold_reasons or []
        ],
    }


class LineInSerializer(StrictFieldsMixin, serializers.Serializer):
    sku = serializers.CharField(max_length=40, trim_whitespace=True)
    quantity = serializers.IntegerField()


class OrderInSerializer(StrictFieldsMixin, serializers.Serializer):
    """The body of POST /orders/. Prices, statuses and totals are never read from it."""

    account = serializers.CharField(
        required=False,
        help_text="Account number (GET /api/v1/accounts/); optional when you belong to one "
        "account.",
    )
    po_number = serializers.CharField(required=False, allow_blank=True, max_length=200)
    ship_to = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="A ship-to id (GET /api/v1/ship-tos/); empty: the account's default.",
    )
    requested_ship_date = serializers.DateField(required=False, allow_null=True)
    cancel_date = serializers.DateField(required=False, allow_null=True)
    backorders = serializers.ChoiceField(
        choices=BackorderPolicy.values, default=BackorderPolicy.ALLOW
    )
    lines = LineInSerializer(many=True, allow_empty=False, max_length=1000)


class LineOutSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    sku = serializers.CharField(source="sku.code")
    quantity = serializers.IntegerField()
    allocated = serializers.IntegerField()
    backordered = serializers.IntegerField()
    shipped = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2)
    promised_date = serializers.DateField(allow_null=True)
    expected_date = serializers.SerializerMethodField()
    expected_basis = serializers.SerializerMethodField(
        help_text='What the expected date rests on ("ETA Jan 12; this factory is usually '
        '9 days late"); empty when nothing waits for a run.'
    )
    cancel_reason = serializers.CharField()

    @extend_schema_field({"type": "string", "format": "date", "nullable": True})
    def get_expected_date(self, line) -> str | None:
        promise = self.context.get("promises", {}).get(line.pk)
        return promise.date.isoformat() if promise else None

    def get_expected_basis(self, line) -> str:
        promise = self.context.get("promises", {}).get(line.pk)
        return promise.basis if promise else ""

    def to_representation(self, line):
        """The fields declared above, read directly (_line_out)."""
        return _line_out(line, self.context.get("promises", {}))


class CreditHoldReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["over_limit", "past_due"])
    reason = serializers.CharField(help_text="Why the order is held.")
    release = serializers.CharField(help_text="What would release it.")


class CreditHoldSerializer(serializers.Serializer):
    """An order on credit hold is accepted and allocated but does not ship until it is
    released (a payment that clears the account, or customer service)."""

    held = serializers.BooleanField(help_text="On credit hold now.")
    held_at = serializers.DateTimeField(allow_null=True)
    released_at = serializers.DateTimeField(allow_null=True)
    reasons = CreditHoldReasonSerializer(many=True)

    def to_representation(self, order):
        return _credit_hold_out(order)


class OrderOutSerializer(serializers.Serializer):
    number = serializers.CharField()
    account = serializers.CharField(source="account.number")
    status = serializers.CharField()
    source = serializers.CharField()
    po_number = serializers.CharField()
    placed_at = serializers.DateTimeField()
    placed_by = serializers.SerializerMethodField()
    ship_to = serializers.IntegerField(source="ship_to_id", allow_null=True)
    requested_ship_date = serializers.DateField(allow_null=True)
    cancel_date = serializers.DateField(allow_null=True)
    backorders = serializers.CharField(source="backorder_policy")
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    freight = serializers.DecimalField(max_digits=12, decimal_places=2)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    credit_hold = CreditHoldSerializer(source="*")
    lines = serializers.SerializerMethodField()

    def get_placed_by(self, order) -> str | None:
        return str(order.placed_by) if order.placed_by else None

    @extend_schema_field(LineOutSerializer(many=True))
    def get_lines(self, order) -> list[dict]:
        lines = order.prefetched_lines
        # Only backordered pairs wait for a run (invariant: a line's pegs add up to them).
        promises = line_promises(lines=[line for line in lines if line.backordered])
        return [_line_out(line, promises) for line in lines]

    def to_representation(self, order):
        """The fields declared above, read directly (see _line_out)."""
        return {
            "number": order.number,
            "account": order.account.number,
            "status": str(order.status),
            "source": str(order.source),
            "po_number": order.po_number,
            "placed_at": _DATETIME.to_representation(order.placed_at),
            "placed_by": self.get_placed_by(order),
            "ship_to": order.ship_to_id,
            "requested_ship_date": _iso_date(order.requested_ship_date),
            "cancel_date": _iso_date(order.cancel_date),
            "backorders": str(order.backorder_policy),
            "subtotal": _MONEY.to_representation(order.subtotal),
            "freight": _MONEY.to_representation(order.freight),
            "total": _MONEY.to_representation(order.total),
            "credit_hold": _credit_hold_out(order),
            "lines": self.get_lines(order),
        }


class OrderSummarySerializer(serializers.Serializer):
    number = serializers.CharField()
    account = serializers.CharField(source="account.number")
    status = serializers.CharField()
    po_number = serializers.CharField()
    placed_at = serializers.DateTimeField()
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    on_credit_hold = serializers.BooleanField(help_text="Held: it ships once released.")


class CancelLineSerializer(StrictFieldsMixin, serializers.Serializer):
    id = serializers.IntegerField()
    quantity = serializers.IntegerField(required=False, allow_null=True)


class CancelInSerializer(StrictFieldsMixin, serializers.Serializer):
    lines = CancelLineSerializer(many=True, required=False, allow_empty=False, max_length=1000)


class EditAddSerializer(StrictFieldsMixin, serializers.Serializer):
    sku = serializers.CharField(max_length=40, trim_whitespace=True)
    quantity = serializers.IntegerField()


class EditReduceSerializer(StrictFieldsMixin, serializers.Serializer):
    id = serializers.IntegerField(help_text="The line's id.")
    by = serializers.IntegerField(help_text="Pairs to take off its open quantity.")


class OrderEditInSerializer(StrictFieldsMixin, serializers.Serializer):
    """Lines to add (SKUs not yet on the order) and lines to reduce, in one change."""

    add = EditAddSerializer(many=True, required=False, max_length=1000)
    reduce = EditReduceSerializer(many=True, required=False, max_length=1000)


def _order_out(order: Order, lines=()) -> dict:
    """The order with its lines: those given (a new order's, still in memory) or read."""
    order.prefetched_lines = list(lines) or list(order.lines.select_related("sku").order_by("pk"))
    return OrderOutSerializer(order).data


# --- Views -------------------------------------------------------------------------------


def _account_for(request, number):
    """The account to order for: the one named, or the caller's only account."""
    account = account_from(user=request.user, number=number)
    if account is None:
        raise PermissionDenied("You belong to no retailer account.")
    return account


KEY_REFUSALS = {
    409: OpenApiResponse(ErrorSerializer, description="The key is in flight."),
    422: OpenApiResponse(ErrorSerializer, description="The key was used for another body."),
}


def _keyed_write(request, write):
    """Run ``write(idempotency key)``: (its result, None), or (None, the refusal in the
    API's shape) for a key in flight (409) or used for another body (422); 403 when the
    caller may not order for the account."""
    try:
        return write(request.headers.get("Idempotency-Key") or None), None
    except OrderNotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except IdempotencyKeyReused as exc:
        return None, error_response(
            str(exc),
            {"Idempotency-Key": ["Already used for another request."]},
            status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    except IdempotencyKeyInFlight as exc:
        return None, error_response(str(exc), status_code=status.HTTP_409_CONFLICT)


class OrderListCreateView(ExportableListMixin, ListAPIView):
    filterset_class = OrderFilterSet
    serializer_class = OrderSummarySerializer
    export = ORDERS

    def get_queryset(self):
        return orders_visible_to(user=self.request.user)

    @exportable_list_schema(OrderSummarySerializer)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        parameters=[IDEMPOTENCY_HEADER],
        request=OrderInSerializer,
        responses={
            201: OrderOutSerializer,
            200: OpenApiResponse(OrderOutSerializer, description="A retry: the same order."),
            **KEY_REFUSALS,
        },
        summary="Place an order",
    )
    def post(self, request):
        body = OrderInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        account = _account_for(request, data.get("account"))
        result, refusal = _keyed_write(
            request,
            lambda key: order_place(
                account=account,
                user=request.user,
                lines=[LineRequest(line["sku"], line["quantity"]) for line in data["lines"]],
                po_number=data.get("po_number", ""),
                ship_to=data.get("ship_to"),
                requested_ship_date=data.get("requested_ship_date"),
                cancel_date=data.get("cancel_date"),
                backorder_policy=data["backorders"],
                source=OrderSource.API,
                idempotency_key=key,
            ),
        )
        if refusal is not None:
            return refusal
        return Response(
            _order_out(result.order, result.lines),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class OrderDetailView(APIView):
    @extend_schema(responses=OrderOutSerializer, summary="One order with its lines")
    def get(self, request, number):
        order = order_for_user(user=request.user, number=number)
        if order is None:
            raise Http404
        return Response(_order_out(order))


class OrderCancelView(APIView):
    @extend_schema(
        request=CancelInSerializer,
        responses=OrderOutSerializer,
        summary="Cancel open (unshipped) quantities; no lines: all of them",
    )
    def post(self, request, number):
        order = order_for_user(user=request.user, number=number)
        if order is None:
            raise Http404
        body = CancelInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lines = body.validated_data.get("lines")
        try:
            order = order_cancel(
                order=order,
                user=request.user,
                lines=[CancelRequest(line["id"], line.get("quantity")) for line in lines]
                if lines is not None
                else None,
            )
        except OrderNotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(_order_out(order))


class OrderLinesView(APIView):
    @extend_schema(
        parameters=[IDEMPOTENCY_HEADER],
        request=OrderEditInSerializer,
        responses={200: OrderOutSerializer, **KEY_REFUSALS},
        summary="Change an open order: add lines, reduce lines",
        description="Before anything ships, add SKUs (allocated, backordered or refused by "
        "the same rules as a new order) and reduce open lines. The order keeps its number "
        "and PO and is confirmed again. The same Idempotency-Key and body returns the order "
        "without changing it twice.",
    )
    def post(self, request, number):
        order = order_for_user(user=request.user, number=number)
        if order is None:
            raise Http404
        body = OrderEditInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result, refusal = _keyed_write(
            request,
            lambda key: order_edit(
                order=order,
                user=request.user,
                add=[LineRequest(line["sku"], line["quantity"]) for line in data.get("add", [])],
                reduce=[ReduceRequest(line["id"], line["by"]) for line in data.get("reduce", [])],
                source=OrderSource.API,
                idempotency_key=key,
            ),
        )
        return refusal or Response(_order_out(result.order))

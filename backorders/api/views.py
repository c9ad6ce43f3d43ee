"""Thin API doors onto the backorder services."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from backorders import selectors, services
from backorders.api.serializers import (
    DecisionInSerializer,
    DecisionOutSerializer,
    EtaChangeInSerializer,
    EtaChangeOutSerializer,
    OrderLineOutSerializer,
    ReceiveInSerializer,
    ReceiveOutSerializer,
    RunCancelInSerializer,
    RunCancelOutSerializer,
    StockCountSerializer,
    StockSyncOutSerializer,
)
from backorders.exceptions import (
    AlternativeUnavailable,
    BackorderInputError,
    DecisionNotAllowed,
    NothingBackordered,
    RunNotReceivable,
)
from inventory.models import InboundRun
from restapi.errors import ErrorSerializer, error_response
from restapi.permissions import HasStaffPermission
from restapi.serializers import unknown_field_errors


def _validated(serializer_class, data, prefix=""):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _run_or_404(reference):
    run = InboundRun.objects.filter(reference=reference).first()
    if run is None:
        raise Http404("No inbound run with this reference.")
    return run


class BackorderDecisionView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=DecisionInSerializer,
        responses={200: DecisionOutSerializer, 409: ErrorSerializer},
    )
    def post(self, request, line_id):
        line = selectors.line_for_user(user=request.user, line_id=line_id)
        if line is None:
            raise Http404("No such order line.")
        data = _validated(DecisionInSerializer, request.data)
        try:
            result = services.backorder_decide(
                line=line, action=data["action"], sku=data.get("sku") or None, user=request.user
            )
        except DecisionNotAllowed as exc:
            return error_response(str(exc), status_code=status.HTTP_403_FORBIDDEN)
        except NothingBackordered as exc:
            return error_response(str(exc), status_code=status.HTTP_409_CONFLICT)
        except AlternativeUnavailable as exc:
            return error_response(
                str(exc), errors={"sku": [str(exc)]}, status_code=status.HTTP_409_CONFLICT
            )
        return Response(
            {
                "action": result.action,
                "decision": result.request.status if result.request else None,
                "line": OrderLineOutSerializer(result.line).data,
                "new_line": OrderLineOutSerializer(result.new_line).data
                if result.new_line
                else None,
            }
        )


class InboundEtaView(APIView):
    permission_classes = [IsAuthenticated, HasStaffPermission.require("inventory.change_eta")]

    @extend_schema(request=EtaChangeInSerializer, responses=EtaChangeOutSerializer)
    def post(self, request, reference):
        run = _run_or_404(reference)
        data = _validated(EtaChangeInSerializer, request.data)
        result = services.eta_change(
            run=run, new_eta=data["eta"], reason=data["reason"], user=request.user
        )
        change = result.eta_change
        return Response(
            {
                "reference": run.reference,
                "old_eta": change.old_eta,
                "eta": change.new_eta,
                "lines_moved": len(result.moved),
                "decision_requests": len(result.decisions),
                "accounts_told": result.accounts_told,
            }
        )


class InboundCancelView(APIView):
    """The factory will not deliver the run: its backorders move to another run inside
    their window or are cancelled at once, and the retailers are told with alternatives."""

    permission_classes = [
        IsAuthenticated,
        HasStaffPermission.require("inventory.change_inboundrun"),
    ]

    @extend_schema(request=RunCancelInSerializer, responses=RunCancelOutSerializer)
    def post(self, request, reference):
        run = _run_or_404(reference)
        data = _validated(RunCancelInSerializer, request.data)
        result = services.run_cancel(run=run, reason=data["reason"], user=request.user)
        return Response(
            {
                "reference": result.run.reference,
                "status": result.run.status,
                "lines_repegged": len(result.repegged),
                "lines_cancelled": len(result.cancelled),
            }
        )


class InboundReceiveView(APIView):
    permission_classes = [
        IsAuthenticated,
        HasStaffPermission.require("inventory.change_inboundrun"),
    ]

    @extend_schema(
        request=ReceiveInSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Optional: a resent receipt with the same key receives nothing twice.",
            )
        ],
        responses={
            200: ReceiveOutSerializer,
            201: ReceiveOutSerializer,
            409: ErrorSerializer,
        },
    )
    def post(self, request, reference):
        run = _run_or_404(reference)
        data = _validated(ReceiveInSerializer, request.data or {})
        lines = data.get("lines")
        try:
            result = services.run_receive(
                run=run,
                user=request.user,
                lines=None
                if lines is None
                else [services.ReceiveRequest(row["sku"], row["quantity"]) for row in lines],
                key=request.headers.get("Idempotency-Key") or None,
            )
        except RunNotReceivable as exc:
            return error_response(str(exc), status_code=status.HTTP_409_CONFLICT)
        return Response(
            {
                "reference": run.reference,
                "status": result.status,
                "receipt": result.receipt.pk if result.receipt else None,
                "received": result.received,
                "filled_backorders": result.filled,
            },
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class StockSyncView(APIView):
    permission_classes = [IsAuthenticated, HasStaffPermission.require("inventory.sync_stock")]

    @extend_schema(request=StockCountSerializer(many=True), responses=StockSyncOutSerializer)
    def post(self, request):
        if not isinstance(request.data, list):
            return error_response(
                "Invalid input.",
                errors={"non_field_errors": ['Send a list: [{"sku", "warehouse"?, "on_hand"}].']},
            )
        shape_errors = {
            f"[{index}]": ["Expected an object."]
            for index, row in enumerate(request.data)
            if not isinstance(row, dict)
        }
        known = StockCountSerializer().fields
        unknown = {
            f"[{index}].{name}": messages
            for index, row in enumerate(request.data)
            for name, messages in unknown_field_errors(row, known).items()
        }
        if unknown:
            return error_response("Invalid input.", errors={**unknown, **shape_errors})
        counts = [
            services.StockCountRequest(
                sku=row.get("sku"),
                warehouse=row.get("warehouse") or None,
                on_hand=row.get("on_hand"),
            )
            if isinstance(row, dict)
            else services.StockCountRequest(sku=None, on_hand=None)
            for row in request.data
        ]
        try:
            result = services.stock_sync(counts=counts, user=request.user)
        except BackorderInputError as exc:
            errors = {
                key: messages
                for key, messages in exc.message_dict.items()
                if key.split(".")[0] not in shape_errors
            }
            return error_response("Invalid input.", errors={**errors, **shape_errors})
        return Response(
            {
                "created": result.created,
                "changed": result.changed,
                "unchanged": result.unchanged,
                "shortages": len(result.shortages),
                "backordered": result.backordered,
                "cancelled": result.cancelled,
            }
        )

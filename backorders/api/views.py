"""Thin API doors onto the backorder services."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from backorders import selectors, services
from backorders.api.serializers import (
    DecisionInSerializer,
    EtaChangeInSerializer,
    OrderLineOutSerializer,
    ReceiveInSerializer,
    StockCountSerializer,
)
from backorders.exceptions import (
    AlternativeUnavailable,
    DecisionNotAllowed,
    NothingBackordered,
    RunNotReceivable,
)
from inventory.models import InboundRun
from portal.api.errors import error_response
from portal.api.permissions import HasStaffPermission


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

    @extend_schema(request=DecisionInSerializer, responses=OrderLineOutSerializer)
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

    @extend_schema(request=EtaChangeInSerializer, responses=None)
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


class InboundReceiveView(APIView):
    permission_classes = [
        IsAuthenticated,
        HasStaffPermission.require("inventory.change_inboundrun"),
    ]

    @extend_schema(request=ReceiveInSerializer, responses=None)
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

    @extend_schema(request=StockCountSerializer(many=True), responses=None)
    def post(self, request):
        if not isinstance(request.data, list):
            return error_response(
                "Invalid input.",
                errors={"non_field_errors": ['Send a list: [{"sku", "warehouse"?, "on_hand"}].']},
            )
        errors, counts = {}, []
        for index, row in enumerate(request.data):
            serializer = StockCountSerializer(data=row if isinstance(row, dict) else None)
            if not isinstance(row, dict):
                errors[f"[{index}]"] = ["Expected an object."]
                continue
            if not serializer.is_valid():
                for name, messages in serializer.errors.items():
                    errors[f"[{index}].{name}"] = [str(m) for m in messages]
                continue
            data = serializer.validated_data
            counts.append(
                services.StockCountRequest(
                    sku=data["sku"],
                    warehouse=data.get("warehouse") or None,
                    on_hand=data["on_hand"],
                )
            )
        if errors:
            return error_response("Invalid input.", errors=errors)
        result = services.stock_sync(counts=counts, user=request.user)
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

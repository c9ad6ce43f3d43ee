"""Webhooks API v1: subscribe (the secret is in the create response only), list, read,
unsubscribe. A retailer's endpoint receives its account's events; an endpoint with no
account receives every account's, for the brand's ERP (webhooks.receive_all_accounts)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.api.accounts import account_from
from orders.selectors import user_can_order
from orders.webhooks.events import WebhookEvent
from orders.webhooks.exceptions import WebhookInputError
from orders.webhooks.selectors import ALL_ACCOUNTS_PERMISSION, endpoints_visible_to
from orders.webhooks.services import endpoint_subscribe, endpoint_unsubscribe
from restapi.errors import ErrorSerializer
from restapi.permissions import HasStaffPermission
from restapi.serializers import StrictFieldsMixin

ReceivesAllAccounts = HasStaffPermission.require(ALL_ACCOUNTS_PERMISSION)


class WebhookInSerializer(StrictFieldsMixin, serializers.Serializer):
    url = serializers.URLField(
        max_length=500, help_text="Public http(s) URL; private and loopback hosts are refused."
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.values),
        allow_empty=False,
        max_length=len(WebhookEvent.values),
    )
    account = serializers.CharField(
        required=False,
        help_text="Account number (see GET /api/v1/accounts/); optional when you belong to one "
        "account. Left out by a user allowed every account's events (the brand's ERP), the "
        "endpoint receives all.",
    )


class NoBodySerializer(StrictFieldsMixin, serializers.Serializer):
    """DELETE reads no body: any field in one is unknown (a 400 naming it), as on every
    other write."""


class WebhookOutSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    account = serializers.CharField(
        source="account.number", allow_null=True, help_text="null: every account's events."
    )
    created_at = serializers.DateTimeField()


class WebhookCreatedSerializer(WebhookOutSerializer):
    secret = serializers.CharField(
        help_text="Signs every delivery (X-Trailwise-Signature). Shown only in this response."
    )


class WebhookListCreateView(ListAPIView):
    serializer_class = WebhookOutSerializer

    def get_queryset(self):
        return endpoints_visible_to(user=self.request.user).order_by("-created_at", "-pk")

    @extend_schema(
        request=WebhookInSerializer,
        responses={201: WebhookCreatedSerializer, 400: ErrorSerializer},
        summary="Subscribe a URL to events",
    )
    def post(self, request):
        body = WebhookInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        account = None
        if data.get("account") or not ReceivesAllAccounts().has_permission(request, self):
            account = account_from(user=request.user, number=data.get("account"))
            if account is None:
                raise PermissionDenied("You belong to no retailer account.")
            if not user_can_order(user=request.user, account=account):
                raise PermissionDenied("Only the account's buyers may subscribe webhooks.")
        try:
            subscription = endpoint_subscribe(
                user=request.user, url=data["url"], events=data["events"], account=account
            )
        except WebhookInputError as exc:
            raise serializers.ValidationError(exc.errors) from exc
        endpoint = subscription.endpoint
        endpoint.secret = subscription.secret
        return Response(WebhookCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookDetailView(APIView):
    def _endpoint(self, request, pk):
        endpoint = endpoints_visible_to(user=request.user).filter(pk=pk).first()
        if endpoint is None:
            raise NotFound("No such webhook.")
        return endpoint

    @extend_schema(responses=WebhookOutSerializer, summary="One webhook endpoint")
    def get(self, request, pk):
        return Response(WebhookOutSerializer(self._endpoint(request, pk)).data)

    @extend_schema(
        responses={204: OpenApiResponse(description="Unsubscribed.")},
        summary="Unsubscribe: nothing more is sent, waiting deliveries are cancelled",
    )
    def delete(self, request, pk):
        endpoint = self._endpoint(request, pk)
        NoBodySerializer(data=request.data or {}).is_valid(raise_exception=True)
        allowed = (
            user_can_order(user=request.user, account=endpoint.account)
            if endpoint.account is not None
            else ReceivesAllAccounts().has_permission(request, self)
        )
        if not allowed:
            raise PermissionDenied("Only the account's buyers may remove its webhooks.")
        endpoint_unsubscribe(endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)

"""The caller's directory in API v1: the accounts they may act for and those accounts'
ship-to addresses, so a retailer's system can learn the `account` and `ship_to` values
the other endpoints take."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from orders.account_selectors import (
    AccountNotNamed,
    AccountNotYours,
    account_named,
    accounts_listed_for,
    ship_tos_visible_to,
)

ACCOUNT_PARAMETER = OpenApiParameter(
    "account",
    str,
    description="Account number (see GET /api/v1/accounts/); needed only when you belong "
    "to several accounts.",
)


def account_from(*, user, number: str | None, required: bool = True):
    """The account a request names by number, else the caller's only one (None for a
    caller with none). A number the caller may not see, or none from a caller with
    several accounts, is a 400 on `account`; `required=False` lets the latter name none."""
    try:
        return account_named(user=user, number=number)
    except AccountNotYours as exc:
        raise serializers.ValidationError({"account": ["Not one of your accounts."]}) from exc
    except AccountNotNamed as exc:
        if not required:
            return None
        raise serializers.ValidationError({"account": [str(exc)]}) from exc


class AccountOutSerializer(serializers.Serializer):
    number = serializers.CharField(help_text="What `account` takes on other endpoints.")
    name = serializers.CharField()
    can_order = serializers.BooleanField(
        help_text="Whether you may place and change orders for it (a viewer may not)."
    )


class AddressSerializer(serializers.Serializer):
    line1 = serializers.CharField()
    line2 = serializers.CharField()
    city = serializers.CharField()
    region = serializers.CharField()
    postal_code = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2.")


class ShipToOutSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="What `ship_to` takes when placing an order.")
    account = serializers.CharField(source="account.number")
    name = serializers.CharField(source="label")
    address = AddressSerializer(source="*")
    default = serializers.BooleanField(source="is_default")


class AccountListView(ListAPIView):
    """The accounts you may see, by number: a buyer's memberships, a rep's assigned
    accounts."""

    serializer_class = AccountOutSerializer
    filter_backends = []

    def get_queryset(self):
        return accounts_listed_for(user=self.request.user)


class ShipToListView(ListAPIView):
    """The ship-to addresses of your accounts, the default first; `?account=` for one."""

    serializer_class = ShipToOutSerializer
    filter_backends = []

    def get_queryset(self):
        user = self.request.user
        number = self.request.query_params.get("account")
        return ship_tos_visible_to(
            user=user, account=account_from(user=user, number=number, required=False)
        )

    @extend_schema(parameters=[ACCOUNT_PARAMETER])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

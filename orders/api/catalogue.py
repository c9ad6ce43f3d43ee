"""The catalogue as an account sees it: inventory's SKU list, priced on the caller's
account's price list."""

from functools import cached_property

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers

from inventory.api.serializers import ErrorSerializer, SKUSerializer
from inventory.api.views import SKUListView
from inventory.models import PriceList
from orders import rules
from orders.pricing import account_price_list
from orders.selectors import accounts_visible_to


class AccountSKUListView(SKUListView):
    """The catalogue with availability now, the next ETA, and your prices."""

    def ship_days(self) -> tuple[int, int]:
        terms = rules.current_terms()
        return (terms.processing_days, terms.receiving_days)

    @cached_property
    def price_list(self) -> PriceList | None:
        """The price list of the account named by `account`, else of the caller's only
        account; the base list for a caller with no account (the brand's own users)."""
        visible = accounts_visible_to(user=self.request.user)
        number = self.request.query_params.get("account", "").strip()
        if number:
            account = visible.filter(number=number).first()
            if account is None:
                raise serializers.ValidationError({"account": ["Not one of your accounts."]})
            return account_price_list(account=account)
        accounts = list(visible.order_by("number")[:2])
        if len(accounts) > 1:
            raise serializers.ValidationError(
                {"account": ["You have several accounts: name the account number for its prices."]}
            )
        return account_price_list(account=accounts[0]) if accounts else None

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "account",
                str,
                description="Account number whose prices to show; needed only when you "
                "belong to several accounts.",
            )
        ],
        responses={200: SKUSerializer(many=True), 400: ErrorSerializer},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

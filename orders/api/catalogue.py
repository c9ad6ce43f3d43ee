"""The catalogue as an account sees it: inventory's SKU list, priced on the caller's
account's price list."""

from functools import cached_property

from drf_spectacular.utils import extend_schema

from inventory.api.serializers import ErrorSerializer, SKUSerializer
from inventory.api.views import SKUListView
from inventory.models import PriceList
from orders import rules
from orders.api.accounts import ACCOUNT_PARAMETER, account_from
from orders.pricing import account_price_list


class AccountSKUListView(SKUListView):
    """The catalogue with availability now, the next ETA, and your prices."""

    def ship_days(self) -> tuple[int, int]:
        terms = rules.current_terms()
        return (terms.processing_days, terms.receiving_days)

    @cached_property
    def price_list(self) -> PriceList | None:
        """The price list of the account named by `account`, else of the caller's only
        account; the base list for a caller with no account (the brand's own users)."""
        account = account_from(
            user=self.request.user, number=self.request.query_params.get("account")
        )
        return account_price_list(account=account) if account else None

    @extend_schema(
        parameters=[ACCOUNT_PARAMETER],
        responses={200: SKUSerializer(many=True), 400: ErrorSerializer},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

"""Which price list an account buys on, and so what it pays: the read side of pricing.
Every price the portal, the API and placement show or charge an account comes from
account_price_list and inventory.pricing."""

import datetime as dt
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from inventory.models import PriceList
from inventory.pricing import prices_for_skus
from orders.models import Account


def account_price_list(*, account: Account | None, on: dt.date | None = None) -> PriceList | None:
    """The assigned list in effect on `on` (today), the latest-starting one if several
    overlap; None (the base list) when there is no account or no list in effect."""
    if account is None or account.pk is None:
        return None
    return account_price_lists(account=account, on=on).first()


def account_price_lists(*, account, on: dt.date | None = None):
    """The account's lists in effect on `on` (today), the one it buys on first; `account`
    may be an OuterRef."""
    on = on or timezone.localdate()
    return (
        PriceList.objects.filter(assignments__account=account, starts_on__lte=on)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on))
        .order_by("-starts_on", "-pk")
    )


def account_prices(*, account: Account | None, skus) -> dict[int, Decimal]:
    """What the account pays today for each SKU (objects with pk, style_id, price)."""
    return prices_for_skus(price_list=account_price_list(account=account), skus=skus)

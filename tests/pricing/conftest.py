import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.models import PriceList, PriceListItem
from orders.models import PriceListAssignment


def price_list_for(*accounts, percent_off="0", days_ago=30, ends_in=None, code=None, **items):
    """A price list in effect today (started `days_ago`), assigned to `accounts`."""
    today = timezone.localdate()
    price_list = PriceList.objects.create(
        code=code or f"list-{PriceList.objects.count() + 1}",
        name="Test list",
        percent_off=Decimal(percent_off),
        starts_on=today - dt.timedelta(days=days_ago),
        ends_on=None if ends_in is None else today + dt.timedelta(days=ends_in),
    )
    for account in accounts:
        PriceListAssignment.objects.create(account=account, price_list=price_list)
    for sku in items.get("skus", {}):
        PriceListItem.objects.create(price_list=price_list, sku=sku, price=items["skus"][sku])
    for style in items.get("styles", {}):
        PriceListItem.objects.create(
            price_list=price_list, style=style, price=items["styles"][style]
        )
    return price_list


@pytest.fixture
def stocked(warehouse):
    from tests.orders.conftest import stocked_sku

    return stocked_sku(warehouse=warehouse, price=Decimal("60.00"), msrp=Decimal("130.00"))

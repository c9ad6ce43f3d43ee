"""Price lists: which list an account buys on, what it pays, and that placed lines and
invoices keep the price they were placed at."""

from decimal import Decimal

import pytest

from inventory.models import SKU
from inventory.pricing import price_expression, prices_for_skus
from orders.models import OrderLine
from orders.pricing import account_price_list, account_prices
from orders.services import LineRequest, order_place
from orders.services.fulfilment import shipment_confirm
from tests.factories import SKUFactory, StyleFactory
from tests.orders.conftest import make_fill_in
from tests.pricing.conftest import price_list_for

pytestmark = pytest.mark.django_db


def test_an_account_without_a_list_pays_the_base_list(account):
    sku = SKUFactory(price=Decimal("60.00"))
    assert account_price_list(account=account) is None
    assert account_prices(account=account, skus=[sku]) == {sku.pk: Decimal("60.00")}


def test_a_sku_price_beats_the_style_price_which_beats_the_percentage(account):
    style = StyleFactory()
    by_sku, by_style, by_percent = (SKUFactory(style=style, price=Decimal("60.00")) for _ in "abc")
    free = SKUFactory(price=Decimal("10.00"))
    price_list_for(
        account,
        percent_off="12.5",
        skus={by_sku: Decimal("41.00"), free: Decimal("0.00")},
        styles={style: Decimal("50.00")},
    )
    other = SKUFactory(price=Decimal("19.99"))
    prices = account_prices(account=account, skus=[by_sku, by_style, by_percent, free, other])
    assert prices == {
        by_sku.pk: Decimal("41.00"),
        by_style.pk: Decimal("50.00"),
        by_percent.pk: Decimal("50.00"),  # the style price covers every SKU of the style
        free.pk: Decimal("0.00"),  # an explicit zero is a price, not "no price"
        other.pk: Decimal("17.49"),  # 19.99 less 12.5% = 17.49125, to the cent
    }


@pytest.mark.parametrize(
    ("base", "percent_off"),
    [("60.00", "12.5"), ("19.99", "33.33"), ("0.10", "50"), ("123.45", "0"), ("99.99", "100")],
)
def test_the_sql_price_and_the_python_price_agree(account, base, percent_off):
    sku = SKUFactory(price=Decimal(base))
    price_list = price_list_for(account, percent_off=percent_off)
    in_sql = SKU.objects.annotate(p=price_expression(price_list)).get(pk=sku.pk).p
    assert in_sql == prices_for_skus(price_list=price_list, skus=[sku])[sku.pk]


def test_the_list_in_effect_is_the_latest_started_one_whose_dates_cover_today(account):
    price_list_for(account, code="ended", days_ago=200, ends_in=-1)
    current = price_list_for(account, code="current", days_ago=60)
    price_list_for(account, code="next-season", days_ago=-10)  # loaded before it starts
    assert account_price_list(account=account) == current
    overlapping = price_list_for(account, code="promo", days_ago=5, ends_in=5)
    assert account_price_list(account=account) == overlapping


def test_one_accounts_list_never_prices_another_account(account, other_account):
    sku = SKUFactory(price=Decimal("60.00"))
    price_list_for(account, percent_off="20")
    assert account_prices(account=account, skus=[sku])[sku.pk] == Decimal("48.00")
    assert account_prices(account=other_account, skus=[sku])[sku.pk] == Decimal("60.00")


def test_placement_charges_the_list_price_and_a_later_change_leaves_placed_lines(
    account, buyer, stocked
):
    make_fill_in(account)
    price_list = price_list_for(account, percent_off="25")
    result = order_place(account=account, user=buyer, lines=[LineRequest(stocked.code, 12)])
    line = result.order.lines.get()
    assert line.unit_price == Decimal("45.00")
    assert result.order.subtotal == Decimal("540.00")
    # when the list changes after placement
    price_list.percent_off = Decimal("50")
    price_list.save()
    # then the placed line keeps its price, and the invoice bills it
    assert OrderLine.objects.get(pk=line.pk).unit_price == Decimal("45.00")
    shipped = shipment_confirm(
        order=result.order,
        carrier="UPS",
        tracking="1Z999AA10123456784",
        lines=[(stocked.code, 12)],
        user=None,
    )
    invoice_line = shipped.invoice.lines.get()
    assert (invoice_line.unit_price, invoice_line.amount) == (Decimal("45.00"), Decimal("540.00"))


def test_the_minimum_is_measured_at_the_accounts_prices(account, buyer, stocked):
    # an opening order of 20 pairs: $1,200 at base, $600 at half price (under the $1,000 minimum)
    price_list_for(account, percent_off="50")
    from orders.exceptions import OrderInputError

    with pytest.raises(OrderInputError) as error:
        order_place(account=account, user=buyer, lines=[LineRequest(stocked.code, 20)])
    assert "lines" in error.value.message_dict

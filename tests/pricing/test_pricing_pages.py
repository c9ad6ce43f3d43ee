"""Every door shows the account's own price and the MSRP: the API, the catalogue, the
style page, the quick lists, the dashboard's core list and the cart. Another account's
list never shows."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.services import LineRequest
from orders.services.cart import cart_lines_add
from tests.conftest import api_client_for
from tests.factories import MembershipFactory, SKUFactory, StockLevelFactory, UserFactory
from tests.pricing.conftest import price_list_for

pytestmark = pytest.mark.django_db
SKUS = "/api/v1/skus/"


@pytest.fixture
def discounted(account, stocked):
    price_list_for(account, percent_off="25")
    stocked.core = stocked.quick_ship = True
    stocked.save()
    return stocked


def test_the_api_prices_each_caller_on_its_own_list(buyer_api, other_api, discounted):
    mine = buyer_api.get(SKUS, {"q": discounted.code}).json()["results"][0]
    theirs = other_api.get(SKUS, {"q": discounted.code}).json()["results"][0]
    assert (mine["price"], mine["msrp"]) == ("45.00", "130.00")
    assert (theirs["price"], theirs["msrp"]) == ("60.00", "130.00")


def test_a_multi_account_caller_names_the_account_for_its_prices(
    account, other_account, buyer, discounted
):
    MembershipFactory(account=other_account, user=buyer)
    api = api_client_for(buyer)
    response = api.get(SKUS)
    assert response.status_code == 400
    assert "account" in response.json()["errors"]
    mine = api.get(SKUS, {"account": account.number, "q": discounted.code}).json()
    theirs = api.get(SKUS, {"account": other_account.number, "q": discounted.code}).json()
    assert (mine["results"][0]["price"], theirs["results"][0]["price"]) == ("45.00", "60.00")


def test_naming_an_account_you_do_not_belong_to_is_refused(other_account, buyer_api, discounted):
    response = buyer_api.get(SKUS, {"account": other_account.number})
    assert response.status_code == 400
    assert response.json()["errors"]["account"] == ["Not one of your accounts."]


def test_the_api_price_range_of_a_page_takes_a_fixed_number_of_queries(
    account, buyer_api, warehouse, django_assert_max_num_queries
):
    skus = [SKUFactory(price=Decimal(f"{50 + n}.00")) for n in range(30)]
    for sku in skus:
        StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=3)
    price_list_for(account, percent_off="10", skus={skus[0]: Decimal("1.00")})
    # token and user, the user's other tokens, the account, its list, the kinds of
    # explicit prices it has, count, page, inbound lines, run ETAs
    with django_assert_max_num_queries(9):
        body = buyer_api.get(SKUS).json()
    prices = {item["sku"]: item["price"] for item in body["results"]}
    assert prices[skus[0].code] == "1.00"
    assert prices[skus[1].code] == "45.90"


@pytest.mark.parametrize(
    "page",
    [
        lambda sku: reverse("portal:style_detail", args=[sku.style.number]),
        lambda sku: reverse("portal:quick_list", args=["core"]),
        lambda sku: reverse("portal:quick_list", args=["quick-ship"]),
        lambda sku: reverse("portal:dashboard"),
    ],
)
def test_pages_show_the_accounts_price_and_the_msrp(
    client, buyer, other_buyer, discounted, page, django_assert_max_num_queries
):
    client.force_login(buyer)
    with django_assert_max_num_queries(30):
        mine = client.get(page(discounted)).content.decode()
    assert "$45.00" in mine
    assert "$60.00" not in mine
    client.force_login(other_buyer)
    theirs = client.get(page(discounted)).content.decode()
    assert "$60.00" in theirs
    assert "$45.00" not in theirs


def test_the_cart_and_review_total_at_the_accounts_prices(
    buyer_client, buyer, account, discounted, django_assert_max_num_queries
):
    cart_lines_add(user=buyer, account=account, lines=[LineRequest(discounted.code, 4)])
    with django_assert_max_num_queries(20):
        cart = buyer_client.get(reverse("portal:cart")).content.decode()
    assert "$45.00" in cart
    assert "MSRP $130.00" in cart
    assert "$180.00" in cart  # 4 x 45.00
    review = buyer_client.get(reverse("portal:review")).content.decode()
    assert "$180.00" in review


def test_a_viewer_sees_prices_too(account, discounted, client):
    viewer = UserFactory()
    MembershipFactory(account=account, user=viewer, role="viewer")
    client.force_login(viewer)
    page = client.get(reverse("portal:style_detail", args=[discounted.style.number]))
    assert "$45.00" in page.content.decode()

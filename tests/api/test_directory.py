"""The caller's directory: GET /api/v1/accounts/ and GET /api/v1/ship-tos/, and how a
multi-account caller learns to name `account`."""

from orders.models import MembershipRole
from tests.conftest import api_client_for
from tests.factories import MembershipFactory, RepFactory, ShipToFactory

V1 = "/api/v1"


def test_accounts_lists_each_of_the_callers_accounts_with_whether_they_may_order(
    account, other_account, buyer
):
    # given a buyer of one account who only views another
    MembershipFactory(account=other_account, user=buyer, role=MembershipRole.VIEWER)
    # when
    response = api_client_for(buyer).get(f"{V1}/accounts/")
    # then
    assert response.status_code == 200
    assert response.json()["results"] == sorted(
        [
            {"number": account.number, "name": account.name, "can_order": True},
            {"number": other_account.number, "name": other_account.name, "can_order": False},
        ],
        key=lambda item: item["number"],
    )


def test_a_rep_lists_the_assigned_accounts_and_may_order_for_them(account, other_account):
    rep = RepFactory()
    account.rep = rep
    account.save(update_fields=["rep"])
    results = api_client_for(rep).get(f"{V1}/accounts/").json()["results"]
    assert results == [{"number": account.number, "name": account.name, "can_order": True}]


def test_ship_tos_carry_id_name_address_and_default(account, buyer_api):
    ShipToFactory(account=account, label="Warehouse", line2="Dock 4", is_default=False)
    response = buyer_api.get(f"{V1}/ship-tos/")
    assert response.status_code == 200
    first, second = response.json()["results"]
    default = account.ship_tos.get(is_default=True)
    assert first == {
        "id": default.pk,
        "account": account.number,
        "name": default.label,
        "address": {
            "line1": default.line1,
            "line2": "",
            "city": "Burlington",
            "region": "VT",
            "postal_code": "05401",
            "country": "US",
        },
        "default": True,
    }
    assert (second["name"], second["default"], second["address"]["line2"]) == (
        "Warehouse",
        False,
        "Dock 4",
    )


def test_a_multi_account_caller_sees_every_accounts_ship_tos_or_names_one(
    account, other_account, buyer
):
    MembershipFactory(account=other_account, user=buyer)
    api = api_client_for(buyer)
    everything = api.get(f"{V1}/ship-tos/").json()["results"]
    assert {item["account"] for item in everything} == {account.number, other_account.number}
    named = api.get(f"{V1}/ship-tos/", {"account": other_account.number}).json()["results"]
    assert {item["account"] for item in named} == {other_account.number}


def test_naming_someone_elses_account_on_ship_tos_is_a_400_on_account(other_account, buyer_api):
    response = buyer_api.get(f"{V1}/ship-tos/", {"account": other_account.number})
    assert response.status_code == 400
    assert response.json()["errors"] == {"account": ["Not one of your accounts."]}


def test_a_multi_account_caller_is_told_where_to_find_account_numbers(
    account, other_account, buyer
):
    MembershipFactory(account=other_account, user=buyer)
    api = api_client_for(buyer)
    for response in (
        api.get(f"{V1}/skus/"),
        api.post(f"{V1}/orders/", {"lines": [{"sku": "X", "quantity": 1}]}, format="json"),
    ):
        assert response.status_code == 400
        (message,) = response.json()["errors"]["account"]
        assert "GET /api/v1/accounts/" in message


def test_directory_lists_take_a_bounded_number_of_queries(
    account, buyer, django_assert_max_num_queries
):
    # given many accounts and addresses
    for _ in range(20):
        ShipToFactory(account=MembershipFactory(user=buyer).account)
    api = api_client_for(buyer)
    for path in ("accounts/", "ship-tos/"):
        with django_assert_max_num_queries(8):
            response = api.get(f"{V1}/{path}")
        assert response.json()["count"] == 21

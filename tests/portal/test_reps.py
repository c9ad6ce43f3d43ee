import pytest
from django.urls import reverse

from orders.models import Order, OrderSource
from orders.services.cart import cart_lines_add
from orders.services.ordering import LineRequest
from portal.middleware import SESSION_ACCOUNT_KEY
from tests.factories import (
    AccountFactory,
    OrderFactory,
    OrderLineFactory,
    RepFactory,
    ShipToFactory,
    SKUFactory,
    StockLevelFactory,
)


@pytest.fixture
def rep(db):
    return RepFactory()


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


@pytest.fixture
def territory(rep, terms):
    """Two accounts of this rep, one of another rep's, one with no rep."""
    mine = [
        AccountFactory(rep=rep, name="Alpine Feet"),
        AccountFactory(rep=rep, name="Birch Soles"),
    ]
    for account in mine:
        ShipToFactory(account=account)
    theirs = AccountFactory(rep=RepFactory(), name="Cedar Comfort")
    unassigned = AccountFactory(name="Dune Walkers")
    OrderFactory(account=mine[0], po_number="PO-MINE")
    OrderLineFactory(order=OrderFactory(account=mine[1]), quantity=8, allocated=0, backordered=8)
    OrderFactory(account=theirs, po_number="PO-THEIRS")
    return {"mine": mine, "theirs": theirs, "unassigned": unassigned}


def test_rep_sees_only_assigned_accounts(rep_client, territory, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = rep_client.get(reverse("portal:rep_accounts"))
    page = response.content.decode()
    assert response.status_code == 200
    assert [a.name for a in response.context["accounts"]] == ["Alpine Feet", "Birch Soles"]
    assert "Cedar Comfort" not in page
    assert "Dune Walkers" not in page
    counts = {
        a.name: (a.open_order_count, a.backordered_pairs) for a in response.context["accounts"]
    }
    assert counts == {"Alpine Feet": (1, 0), "Birch Soles": (1, 8)}


def test_rep_account_page_lists_orders_and_backorders(
    rep_client, territory, django_assert_max_num_queries
):
    account = territory["mine"][0]
    OrderLineFactory(order=OrderFactory(account=account), quantity=3, allocated=0, backordered=3)
    with django_assert_max_num_queries(12):
        response = rep_client.get(reverse("portal:rep_account", args=[account.pk]))
    assert response.status_code == 200
    assert "PO-MINE" in response.content.decode()
    assert response.context["backordered_pairs"] == 3


@pytest.mark.parametrize("whose", ["theirs", "unassigned"])
def test_rep_gets_404_for_accounts_not_assigned_to_them(rep_client, territory, whose):
    account_id = territory[whose].pk
    assert rep_client.get(reverse("portal:rep_account", args=[account_id])).status_code == 404
    response = rep_client.post(reverse("portal:account_switch"), {"account": account_id})
    assert response.status_code == 404
    assert SESSION_ACCOUNT_KEY not in rep_client.session


@pytest.mark.parametrize("bad_id", ["0", "999999"])
def test_rep_account_unknown_id_is_404(rep_client, territory, bad_id):
    assert rep_client.get(f"/reps/accounts/{bad_id}/").status_code == 404


def test_non_rep_gets_404(buyer_client, territory):
    assert buyer_client.get(reverse("portal:rep_accounts")).status_code == 404
    account_id = territory["mine"][0].pk
    assert buyer_client.get(reverse("portal:rep_account", args=[account_id])).status_code == 404


def test_rep_orders_on_behalf_of_an_account(rep_client, rep, territory, warehouse):
    # given: the rep chooses the account; it becomes the current account
    account = territory["mine"][1]
    response = rep_client.post(
        reverse("portal:account_switch"), {"account": account.pk, "next": reverse("portal:cart")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:cart")
    assert rep_client.session[SESSION_ACCOUNT_KEY] == account.pk
    sku = SKUFactory()
    StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=50)
    cart_lines_add(user=rep, account=account, lines=[LineRequest(sku.code, 12)])
    # when: the rep submits through the ordering pages
    response = rep_client.post(
        reverse("portal:submit"),
        {
            "po_number": "PO-REP-1",
            "ship_to": account.ship_tos.get().pk,
            "backorders": "allow",
            "idempotency_key": "rep-order-1",
        },
    )
    # then: the order is the account's, placed by the rep, from the rep source
    assert response.status_code == 302, response.content.decode()[:2000]
    order = Order.objects.get(po_number="PO-REP-1")
    assert order.account == account
    assert order.placed_by == rep
    assert order.source == OrderSource.REP

"""Who sees which accounts (orders.selectors) and switching between them."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import MembershipRole
from orders.selectors import account_for_user, accounts_visible_to, user_can_order
from portal.context_processors import current_account
from portal.middleware import SESSION_ACCOUNT_KEY, CurrentAccountMiddleware
from tests.factories import AccountFactory, MembershipFactory, RepFactory

pytestmark = pytest.mark.django_db


def test_buyer_can_order_viewer_cannot(account):
    buyer = MembershipFactory(account=account, role=MembershipRole.BUYER).user
    viewer = MembershipFactory(account=account, role=MembershipRole.VIEWER).user

    assert user_can_order(user=buyer, account=account) is True
    assert user_can_order(user=viewer, account=account) is False
    assert list(accounts_visible_to(user=viewer)) == [account]


def test_buyer_of_one_account_cannot_order_for_another(buyer, other_account):
    assert user_can_order(user=buyer, account=other_account) is False


def test_rep_sees_only_assigned_accounts():
    rep = RepFactory()
    other_rep = RepFactory()
    mine = AccountFactory(rep=rep)
    theirs = AccountFactory(rep=other_rep)

    assert list(accounts_visible_to(user=rep)) == [mine]
    assert user_can_order(user=rep, account=mine) is True
    assert user_can_order(user=rep, account=theirs) is False
    assert account_for_user(user=rep, account_id=theirs.pk) is None


def test_rep_flag_removed_loses_assigned_accounts():
    rep = RepFactory()
    AccountFactory(rep=rep)
    rep.is_sales_rep = False
    rep.save(update_fields=["is_sales_rep"])

    assert list(accounts_visible_to(user=rep)) == []


def test_user_of_account_a_sees_nothing_of_account_b(buyer, account, other_account):
    assert list(accounts_visible_to(user=buyer)) == [account]
    assert account_for_user(user=buyer, account_id=other_account.pk) is None


def test_inactive_user_sees_nothing(account):
    user = MembershipFactory(account=account).user
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert list(accounts_visible_to(user=user)) == []
    assert user_can_order(user=user, account=account) is False


def test_inactive_account_is_hidden(buyer, account):
    account.is_active = False
    account.save(update_fields=["is_active"])

    assert list(accounts_visible_to(user=buyer)) == []
    assert user_can_order(user=buyer, account=account) is False


def test_cannot_switch_into_an_account_you_do_not_belong_to(buyer_client, other_account):
    response = buyer_client.post(reverse("portal:account_switch"), {"account": other_account.pk})

    assert response.status_code == 404
    assert SESSION_ACCOUNT_KEY not in buyer_client.session


def test_switch_between_own_accounts(client, account):
    # given: a buyer of two stores
    user = MembershipFactory(account=account).user
    second = AccountFactory(name="Zz Second Store")
    MembershipFactory(account=second, user=user)
    client.force_login(user)
    assert client.get(reverse("portal:dashboard")).context["current_account"] == account

    # when
    response = client.post(
        reverse("portal:account_switch"), {"account": second.pk, "next": "/profile/"}
    )

    # then
    assert response.status_code == 302
    assert response.url == "/profile/"
    assert client.session[SESSION_ACCOUNT_KEY] == second.pk
    page = client.get(reverse("portal:dashboard"))
    assert page.context["current_account"] == second
    assert b"Working in <strong>Zz Second Store</strong>" in page.content


def test_switch_refuses_offsite_next(client, account):
    user = MembershipFactory(account=account).user
    client.force_login(user)

    response = client.post(
        reverse("portal:account_switch"), {"account": account.pk, "next": "https://evil.example/"}
    )

    assert response.url == reverse("portal:dashboard")


def test_header_switcher_lists_only_visible_accounts(client, account, other_account):
    # given
    user = MembershipFactory(account=account).user
    second = AccountFactory(name="Second Store")
    MembershipFactory(account=second, user=user)
    client.force_login(user)

    # when
    html = client.get(reverse("portal:profile")).content.decode()

    # then
    assert 'name="account"' in html
    assert f'value="{account.pk}"' in html
    assert f'value="{second.pk}"' in html
    assert f'value="{other_account.pk}"' not in html


def test_current_account_and_account_menu_cost_one_query(rf, account, django_assert_num_queries):
    # given: a buyer of two stores who chose the second one
    user = MembershipFactory(account=account).user
    second = AccountFactory(name="Zz Second Store")
    MembershipFactory(account=second, user=user)
    request = rf.get("/")
    request.user = user
    request.session = {SESSION_ACCOUNT_KEY: second.pk}
    CurrentAccountMiddleware(lambda request: None)(request)

    # when / then: the view's account, the header's list, current account and switch flag
    # share one query, and the current account is a whole row (nothing loaded later)
    with django_assert_num_queries(1):
        assert request.account == second
        assert request.account.backorder_window_days == second.backorder_window_days
        context = current_account(request)
        menu = context["account_menu"]
        assert [a.pk for a in menu.accounts] == [account.pk, second.pk]
        assert menu.current == second
        assert context["current_account"] == second
        assert menu.can_switch is True


def test_chosen_account_no_longer_visible_falls_back_to_the_first(rf, account):
    # given: the session still names an account the user was removed from
    user = MembershipFactory(account=account).user
    gone = AccountFactory(name="Aa Gone Store")
    request = rf.get("/")
    request.user = user
    request.session = {SESSION_ACCOUNT_KEY: gone.pk}
    CurrentAccountMiddleware(lambda request: None)(request)

    # then
    assert request.account == account
    assert [a.pk for a in request.account_menu.accounts] == [account.pk]


def test_signed_out_request_has_no_account(rf, django_assert_num_queries):
    request = rf.get("/")
    request.user = AnonymousUser()
    request.session = {}
    CurrentAccountMiddleware(lambda request: None)(request)

    with django_assert_num_queries(0):
        assert not request.account
        assert current_account(request) == {"current_account": None, "account_menu": None}


def test_single_account_user_sees_name_not_switcher(buyer_client, account):
    html = buyer_client.get(reverse("portal:dashboard")).content.decode()

    assert 'name="account"' not in html
    assert account.name in html


def test_a_page_working_in_an_account_reads_the_accounts_once(buyer_client, account):
    # given: a page that works in the current account and shows the header's menu, read
    # with nothing cached (later reads take the menu, and the page, from the cache)
    url = reverse("portal:dashboard")
    cache.clear()

    # when
    with CaptureQueriesContext(connection) as queries:
        response = buyer_client.get(url)

    # then
    assert response.context["current_account"] == account
    account_reads = [q for q in queries.captured_queries if 'FROM "orders_account"' in q["sql"]]
    assert len(account_reads) == 1

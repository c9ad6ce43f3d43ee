"""The signed-in frame (session, user, the header's accounts) comes from the shared cache,
and nothing cached outlives a change to who may see or do what."""

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Membership, MembershipRole
from tests.factories import AccountFactory, MembershipFactory

pytestmark = pytest.mark.skipif(
    not getattr(cache, "is_shared", lambda: False)(),
    reason="the frame is cached only in a cache every process shares (Redis)",
)

PAGE = "portal:notification_preferences"


def _menu(client):
    response = client.get(reverse(PAGE))
    assert response.status_code == 200
    return response.wsgi_request.account_menu


def test_a_second_request_reads_no_session_user_or_account_rows(buyer_client):
    buyer_client.get(reverse(PAGE))
    with CaptureQueriesContext(connection) as queries:
        assert buyer_client.get(reverse(PAGE)).status_code == 200
    frame_tables = ("django_session", "portal_user", "orders_account", "orders_membership")
    read = [q["sql"] for q in queries if any(f'"{table}"' in q["sql"] for table in frame_tables)]
    assert read == []


def test_a_role_change_is_seen_on_the_next_request(buyer_client, buyer, account):
    assert _menu(buyer_client).is_buyer
    membership = Membership.objects.get(user=buyer, account=account)
    membership.role = MembershipRole.VIEWER
    membership.save()
    menu = _menu(buyer_client)
    assert menu.current == account
    assert not menu.is_buyer
    assert not menu.can_order


def test_a_membership_removed_or_added_is_seen_on_the_next_request(buyer_client, buyer, account):
    other = AccountFactory()
    assert [a.pk for a in _menu(buyer_client).accounts] == [account.pk]
    MembershipFactory(user=buyer, account=other)
    assert {a.pk for a in _menu(buyer_client).accounts} == {account.pk, other.pk}
    Membership.objects.filter(user=buyer, account=account).delete()
    assert [a.pk for a in _menu(buyer_client).accounts] == [other.pk]


def test_an_account_renamed_is_seen_on_the_next_request(buyer_client, account):
    _menu(buyer_client)
    account.name = "Renamed Shoes"
    account.save()
    assert _menu(buyer_client).current.name == "Renamed Shoes"


def test_a_permission_granted_or_revoked_is_seen_on_the_next_request(buyer_client, buyer):
    permission = Permission.objects.get(codename="view_order")
    assert not buyer_client.get(reverse(PAGE)).wsgi_request.user.has_perm("orders.view_order")
    buyer.user_permissions.add(permission)
    assert buyer_client.get(reverse(PAGE)).wsgi_request.user.has_perm("orders.view_order")
    buyer.user_permissions.remove(permission)
    assert not buyer_client.get(reverse(PAGE)).wsgi_request.user.has_perm("orders.view_order")


def test_a_deactivated_user_or_ended_sessions_sign_out_on_the_next_request(
    client, buyer, other_buyer
):
    client.force_login(buyer)
    assert client.get(reverse(PAGE)).status_code == 200
    buyer.is_active = False
    buyer.save()
    assert client.get(reverse(PAGE)).status_code == 302
    client.force_login(other_buyer)
    assert client.get(reverse(PAGE)).status_code == 200
    other_buyer.sessions_end()
    assert client.get(reverse(PAGE)).status_code == 302


def test_a_signed_out_session_stays_out(client, buyer):
    client.force_login(buyer)
    assert client.get(reverse(PAGE)).status_code == 200
    session_key = client.cookies["sessionid"].value
    client.post(reverse("logout"))
    client.cookies["sessionid"] = session_key  # the old cookie, replayed
    assert client.get(reverse(PAGE)).status_code == 302


def test_the_session_user_and_accounts_are_one_cache_round_trip(buyer_client, monkeypatch):
    import redis

    buyer_client.get(reverse(PAGE))  # this process learns the session's user
    sent = []
    execute = redis.Redis.execute_command

    def counted(self, *args, **options):
        sent.append(args[0])
        return execute(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counted)
    assert buyer_client.get(reverse(PAGE)).status_code == 200
    # the session with the access version, the user and their accounts
    assert sent == ["MGET"]


def test_a_session_remembered_with_another_user_gets_its_own(client, buyer, other_buyer):
    from portal import frame_cache

    other = Client()
    other.force_login(other_buyer)
    other.get(reverse(PAGE))  # the other buyer's entries are in the cache
    client.force_login(buyer)
    # when this process wrongly remembers the buyer's session as the other buyer's
    frame_cache._session_users[client.session.session_key] = other_buyer.pk
    # then the entries read ahead are not taken up: the buyer is the buyer
    request = client.get(reverse(PAGE)).wsgi_request
    assert (request.user.pk, request.account_menu.current) == (buyer.pk, buyer_account(buyer))
    assert frame_cache._session_users[client.session.session_key] == buyer.pk


def buyer_account(user):
    return Membership.objects.get(user=user).account

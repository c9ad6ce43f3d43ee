import pytest
from django.urls import reverse

from orders.services.accounts import membership_remove, user_deactivate
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _dashboard_status(client):
    return client.get(reverse("portal:dashboard")).status_code


def test_removing_a_membership_ends_the_users_sessions(client, account):
    # given a buyer signed in
    membership = MembershipFactory(account=account)
    client.force_login(membership.user)
    assert _dashboard_status(client) == 200
    # when they are taken out of the account
    membership_remove(membership=membership)
    # then their open session no longer works
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302
    assert reverse("login") in response.url


def test_deactivating_a_user_ends_the_users_sessions(client, account):
    membership = MembershipFactory(account=account)
    client.force_login(membership.user)
    assert _dashboard_status(client) == 200

    user_deactivate(user=membership.user)

    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302


def test_other_users_sessions_survive(client, account):
    kept = MembershipFactory(account=account)
    removed = MembershipFactory(account=account)
    client.force_login(kept.user)

    membership_remove(membership=removed)

    assert _dashboard_status(client) == 200

"""The header (navigation, account menu, name, sign-out) is rendered once per process for
each combination of what it shows: a change to memberships, roles, accounts, the user or
their permissions shows on the very next request, and nothing of one request (its CSRF
token) or one user reaches another."""

import re
import subprocess
import sys

from django.template.loader import get_template
from django.test import Client
from django.urls import reverse

from orders.models import Membership, MembershipRole
from portal.templatetags.portal_nav import CSRF_PLACEHOLDER
from tests.factories import AccountFactory, MembershipFactory

PAGE = "portal:notification_preferences"


def _header(client) -> str:
    response = client.get(reverse(PAGE))
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index('<header class="topbar">') : html.index("</header>")]


def test_a_role_change_changes_the_header_on_the_next_request(buyer_client, buyer, account):
    header = _header(buyer_client)
    assert reverse("portal:cart") in header
    assert reverse("portal:account_settings") in header
    membership = Membership.objects.get(user=buyer, account=account)
    membership.role = MembershipRole.VIEWER
    membership.save()
    header = _header(buyer_client)
    assert reverse("portal:cart") not in header
    assert reverse("portal:account_settings") not in header
    assert account.name in header


def test_a_membership_added_or_removed_changes_the_switcher(buyer_client, buyer, account):
    assert 'class="account-switch"' not in _header(buyer_client)
    other = AccountFactory(name="Second Store")
    MembershipFactory(user=buyer, account=other)
    header = _header(buyer_client)
    assert 'class="account-switch"' in header
    assert f'<option value="{other.pk}">Second Store</option>' in header
    assert f'value="{reverse(PAGE)}"' in header  # back to the page after switching
    Membership.objects.filter(user=buyer, account=other).delete()
    header = _header(buyer_client)
    assert 'class="account-switch"' not in header
    assert "Second Store" not in header


def test_an_account_renamed_or_a_user_renamed_shows_on_the_next_request(
    buyer_client, buyer, account
):
    _header(buyer_client)
    account.name = "Renamed Shoes"
    account.save()
    buyer.full_name = "Zelda Quist"
    buyer.save()
    header = _header(buyer_client)
    assert "Renamed Shoes" in header
    assert ">Zelda</a>" in header


def test_becoming_a_sales_rep_adds_their_link(buyer_client, buyer):
    assert reverse("portal:rep_accounts") not in _header(buyer_client)
    buyer.is_sales_rep = True
    buyer.save()
    assert reverse("portal:rep_accounts") in _header(buyer_client)


def test_two_users_each_see_only_their_own_header(buyer_client, account, other_buyer):
    other_client = Client()
    other_client.force_login(other_buyer)
    other_account = Membership.objects.get(user=other_buyer).account
    mine, theirs = _header(buyer_client), _header(other_client)
    assert account.name in mine
    assert other_account.name not in mine
    assert other_account.name in theirs
    assert account.name not in theirs


def test_each_answer_carries_its_own_csrf_token_that_signs_out(buyer, account):
    client = Client(enforce_csrf_checks=True)
    client.force_login(buyer)
    first, second = _header(client), _header(client)
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="(\w+)"', second)
    assert tokens
    assert CSRF_PLACEHOLDER not in first + second
    assert tokens[0] not in first  # masked anew for each answer, never kept
    response = client.post(reverse("logout"), {"csrfmiddlewaretoken": tokens[0]})
    assert response.status_code == 302
    assert client.get(reverse(PAGE)).status_code == 302  # signed out


def test_a_page_rendered_without_the_request_shows_the_signed_out_header():
    html = get_template("500.html").render()
    assert reverse("login") in html
    assert "Sign out" not in html


def test_a_server_process_loads_every_view_before_its_first_request_and_connects_nothing():
    probe = (
        "import sys, portal.wsgi\n"
        "from django.db import connection\n"
        "print('portal.views.accounts' in sys.modules, connection.connection is None)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["True", "True"]

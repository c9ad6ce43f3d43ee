"""API tokens: the create_api_token command and the profile page."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _command(email):
    out = io.StringIO()
    call_command("create_api_token", email, stdout=out)
    return out.getvalue().strip()


@pytest.mark.urls("tests.portal.token_urls")
def test_command_prints_a_key_that_authenticates_and_only_its_digest_is_stored():
    # given
    user = UserFactory(email="buyer@alpine-soles.example")

    # when
    key = _command("BUYER@alpine-soles.example")

    # then: the database holds the digest, never the key
    token = AuthToken.objects.get(user=user)
    assert len(key) >= 32
    assert token.digest == hash_token(key)
    assert token.digest != key
    with connection.cursor() as cursor:
        cursor.execute("SELECT digest, token_key FROM knox_authtoken")
        assert all(key not in col for row in cursor.fetchall() for col in row)

    # and the key authenticates an API request
    api = APIClient()
    assert api.get("/api/whoami/").status_code in (401, 403)
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get("/api/whoami/")
    assert response.status_code == 200
    assert response.json() == {"email": "buyer@alpine-soles.example"}

    # a wrong key does not
    api.credentials(HTTP_AUTHORIZATION=f"Token {key[:-1]}x")
    assert api.get("/api/whoami/").status_code == 401


def test_each_run_issues_a_new_key():
    user = UserFactory()

    assert _command(user.email) != _command(user.email)
    assert AuthToken.objects.filter(user=user).count() == 2


def test_unknown_email_is_a_clear_error():
    with pytest.raises(CommandError, match="No user with the email 'nobody@example.com'"):
        _command("nobody@example.com")
    assert AuthToken.objects.count() == 0


def test_inactive_user_gets_no_token():
    user = UserFactory(is_active=False)

    with pytest.raises(CommandError, match="inactive"):
        _command(user.email)
    assert AuthToken.objects.count() == 0


def test_profile_page_creates_shows_once_and_revokes(client, django_assert_max_num_queries):
    # given
    user = UserFactory()
    client.force_login(user)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("portal:profile")).status_code == 200

    # when: create
    response = client.post(reverse("portal:api_token_new"))

    # then: the key is in this response only
    key = response.context["new_key"]
    token = AuthToken.objects.get(user=user)
    assert token.digest == hash_token(key)
    assert key in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert key not in client.get(reverse("portal:profile")).content.decode()

    # when: revoke
    response = client.post(reverse("portal:api_token_revoke"), {"token": token.digest})

    # then
    assert response.status_code == 302
    assert not AuthToken.objects.filter(user=user).exists()


def test_cannot_revoke_someone_elses_token(client):
    owner = UserFactory()
    token, _ = AuthToken.objects.create(user=owner)
    client.force_login(UserFactory())

    client.post(reverse("portal:api_token_revoke"), {"token": token.digest})

    assert AuthToken.objects.filter(pk=token.pk).exists()


def test_profile_requires_login(client):
    response = client.get(reverse("portal:profile"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))

"""Sign-in, lockout by username + IP, and the password pages."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _login(client, email, password, ip):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_login_page_renders(client):
    response = client.get(LOGIN)

    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_login_with_the_right_password_signs_in(client):
    user = UserFactory(email="buyer@alpine-soles.example")

    response = _login(client, "Buyer@Alpine-Soles.example", TEST_PASSWORD, "10.0.0.1")

    assert response.status_code == 302
    assert response.url == reverse("portal:dashboard")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_five_bad_passwords_lock_that_username_from_that_ip_only(client, settings):
    # given
    settings.AXES_FAILURE_LIMIT = 5
    victim = UserFactory()
    bystander = UserFactory()
    statuses = [
        _login(client, victim.email, "wrong-password", "10.0.0.1").status_code for _ in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]  # the fifth failure locks

    # when / then: the right password from the same IP is refused while locked
    locked = _login(client, victim.email, TEST_PASSWORD, "10.0.0.1")
    assert locked.status_code == 429
    assert b"Too many sign-in attempts" in locked.content
    assert "_auth_user_id" not in client.session

    # the same username from another IP still signs in
    assert _login(client, victim.email, TEST_PASSWORD, "10.0.0.2").status_code == 302
    client.logout()

    # another username from the locked IP signs in too
    assert _login(client, bystander.email, TEST_PASSWORD, "10.0.0.1").status_code == 302


def test_four_bad_passwords_do_not_lock(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    user = UserFactory()
    for _ in range(4):
        _login(client, user.email, "wrong-password", "10.0.0.9")

    assert _login(client, user.email, TEST_PASSWORD, "10.0.0.9").status_code == 302


def test_inactive_user_cannot_sign_in(client):
    user = UserFactory(is_active=False)

    response = _login(client, user.email, TEST_PASSWORD, "10.0.0.3")

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_password_reset_round_trip(client):
    # given
    user = UserFactory(email="viewer@alpine-soles.example", full_name="Grace O'Neil")

    # when: ask for the link
    response = client.post(reverse("password_reset"), {"email": user.email})

    # then: one plain-text email with a working link, not HTML-escaped
    assert response.status_code == 302
    assert client.get(response.url).status_code == 200
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Reset your Trailwise Wholesale password"
    assert "Hello Grace," in message.body
    assert "&#x27;" not in message.body
    link = re.search(r"http://testserver(/accounts/reset/\S+)", message.body).group(1)

    # when: follow it and choose a new password
    form = client.get(link, follow=True)
    assert form.status_code == 200
    assert b"Choose a new password" in form.content
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "brand-new-sandals-42", "new_password2": "brand-new-sandals-42"},
    )

    # then
    assert done.status_code == 302
    assert b"Password set" in client.get(done.url).content
    user.refresh_from_db()
    assert user.check_password("brand-new-sandals-42")


def test_password_reset_for_unknown_email_sends_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert mail.outbox == []


def test_password_change(client):
    user = UserFactory()
    client.force_login(user)

    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "another-trail-shoe-77",
            "new_password2": "another-trail-shoe-77",
        },
    )

    assert response.status_code == 302
    assert b"Password changed" in client.get(response.url).content
    user.refresh_from_db()
    assert user.check_password("another-trail-shoe-77")


def test_password_change_with_wrong_old_password_names_the_field(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(
        reverse("password_change"),
        {"old_password": "nope", "new_password1": "x-y-z-123456", "new_password2": "x-y-z-123456"},
    )

    assert response.status_code == 200
    assert b"old password was entered incorrectly" in response.content
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)

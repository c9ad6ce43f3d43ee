"""Sign-in, lockout by username + IP, and the password pages."""

import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.kinds import MessageKind
from notifications.models import Message
from notifications.services import message_deliver
from portal.tasks import password_reset_send_task
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
CSRF_TOKEN = re.compile(rb'"X-CSRFToken": "\w+"|name="csrfmiddlewaretoken" value="\w+"')


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


@pytest.mark.parametrize(
    "spelling", ["SOMEONE@TRAILS.EXAMPLE", " Someone@Trails.Example ", "someone@trails.example"]
)
def test_the_lockout_counts_every_spelling_that_signs_in_as_the_user(client, settings, spelling):
    # given: five failures spread over letter cases lock the user
    settings.AXES_FAILURE_LIMIT = 5
    UserFactory(email="someone@trails.example")
    for name in ["someone@trails.example", "SOMEONE@trails.example", "Someone@Trails.Example"] * 2:
        _login(client, name, "wrong-password", "10.0.0.7")

    # when: the right password under any spelling, from the same IP
    response = _login(client, spelling, TEST_PASSWORD, "10.0.0.7")

    # then: still locked
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_name_that_matches_nobody_is_counted_case_folded(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    statuses = [
        _login(client, name, "guess", "10.0.0.8").status_code
        for name in ["Nobody@X.example", "NOBODY@x.example", "nobody@x.EXAMPLE"]
    ]
    assert statuses == [200, 200, 429]


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


@pytest.fixture
def published(monkeypatch):
    """The reset tasks the requests publish, as (email, request_id); run them with
    _worker_runs, as a Celery worker would."""
    calls = []

    def publish(task, args, **options):
        calls.append(args)
        return True

    monkeypatch.setattr("portal.services.task_publish", publish)
    return calls


def _worker_runs(published):
    """Run each published task and deliver what it wrote to the outbox; the sent mail."""
    for args in published:
        password_reset_send_task(*args)
    for message in Message.objects.filter(kind=MessageKind.PASSWORD_RESET, status="pending"):
        message_deliver(message_id=message.pk)
    return mail.outbox


def test_password_reset_round_trip(client, settings, published):
    # given: a request sent with a forged Host header
    settings.SITE_URL = "https://portal.trailwise.example"
    settings.ALLOWED_HOSTS = ["*"]
    user = UserFactory(email="viewer@alpine-soles.example", full_name="Grace O'Neil")

    # when: ask for the link
    response = client.post(
        reverse("password_reset"), {"email": "Viewer@Alpine-Soles.example"}, HTTP_HOST="evil.test"
    )

    # then: nothing is sent on the request path; the worker sends one email through the
    # outbox whose link is on SITE_URL, not the Host header
    assert response.status_code == 302
    assert client.get(response.url).status_code == 200
    assert mail.outbox == []
    (message,) = _worker_runs(published)
    assert message.subject == "Reset your Trailwise Wholesale password"
    assert "Hello Grace," in message.body
    assert "&#x27;" not in message.body
    assert "evil.test" not in message.body
    assert "evil.test" not in message.alternatives[0][0]
    link = re.search(r"https://portal\.trailwise\.example(/accounts/reset/\S+)", message.body)

    # when: follow it and choose a new password
    form = client.get(link.group(1), follow=True)
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
    # and the user is told their password changed
    told = Message.objects.get(kind=MessageKind.PASSWORD_CHANGED, recipient=user)
    assert told.context["reset_url"] == "https://portal.trailwise.example/accounts/password_reset/"


def test_the_outbox_row_holds_no_working_link_and_the_feed_does_not_list_it(client, published):
    user = UserFactory()
    client.post(reverse("password_reset"), {"email": user.email})
    _worker_runs(published)

    row = Message.objects.get(kind=MessageKind.PASSWORD_RESET, recipient=user)
    assert row.status == "sent"
    assert row.context == {}
    assert not Message.objects.for_recipient(user).in_feed().exists()


def test_a_known_and_an_unknown_address_take_the_same_path(client, published):
    # given
    UserFactory(email="known@trails.example")
    answers, queries = [], []

    # when
    for email in ("known@trails.example", "nobody@trails.example"):
        with CaptureQueriesContext(connection) as captured:
            response = client.post(reverse("password_reset"), {"email": email})
        page = CSRF_TOKEN.sub(b"", client.get(response.url).content)
        answers.append((response.status_code, response.url, page))
        queries.append(len(captured))

    # then: the same answer, the same queries, one task each; nothing written or sent
    assert answers[0] == answers[1]
    assert queries[0] == queries[1]
    assert [args[0] for args in published] == ["known@trails.example", "nobody@trails.example"]
    assert not Message.objects.exists()
    assert mail.outbox == []
    # and the worker writes an email only for the known one
    assert len(_worker_runs(published)) == 1


def test_the_worker_sends_once_per_request_however_often_it_runs(client, published):
    user = UserFactory()
    client.post(reverse("password_reset"), {"email": user.email})
    (args,) = published

    assert password_reset_send_task(*args) == 1
    assert password_reset_send_task(*args) == 1
    assert Message.objects.filter(kind=MessageKind.PASSWORD_RESET).count() == 1


def test_with_the_broker_down_the_request_writes_the_outbox_row_itself(client, monkeypatch):
    monkeypatch.setattr("portal.services.task_publish", lambda task, args, **options: False)
    user = UserFactory()

    response = client.post(reverse("password_reset"), {"email": user.email})

    assert response.status_code == 302
    assert Message.objects.filter(kind=MessageKind.PASSWORD_RESET, recipient=user).count() == 1


def test_reset_requests_are_limited_per_address_in_any_letter_case(client, settings, published):
    settings.PASSWORD_RESET_RATES = {"ip": "100/hour", "email": "3/hour"}
    spellings = ["a@trails.example", "A@TRAILS.EXAMPLE", "a@Trails.example", "A@trails.example"]
    statuses = [
        client.post(reverse("password_reset"), {"email": e}, REMOTE_ADDR=f"10.1.0.{i}")
        for i, e in enumerate(spellings)
    ]

    assert [r.status_code for r in statuses] == [302, 302, 302, 429]
    assert int(statuses[-1]["Retry-After"]) > 0
    assert b"Too many reset requests" in statuses[-1].content
    assert len(published) == 3
    # another address is still served
    other = client.post(reverse("password_reset"), {"email": "b@trails.example"})
    assert other.status_code == 302


def test_reset_requests_are_limited_per_client_address(client, settings, published):
    settings.PASSWORD_RESET_RATES = {"ip": "3/hour", "email": "100/hour"}
    statuses = [
        client.post(
            reverse("password_reset"), {"email": f"n{i}@trails.example"}, REMOTE_ADDR="10.2.0.1"
        ).status_code
        for i in range(4)
    ]
    elsewhere = client.post(
        reverse("password_reset"), {"email": "n9@trails.example"}, REMOTE_ADDR="10.2.0.2"
    )

    assert statuses == [302, 302, 302, 429]
    assert elsewhere.status_code == 302
    assert len(published) == 4


def test_a_malformed_address_is_a_400_and_publishes_nothing(client, published):
    response = client.post(reverse("password_reset"), {"email": "not an address"})

    assert response.status_code == 400
    assert published == []


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
    # the user is told by email, once
    (told,) = Message.objects.filter(kind=MessageKind.PASSWORD_CHANGED, recipient=user)
    assert told.status == "pending"
    assert told.subject == "Your Trailwise Wholesale password was changed"


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

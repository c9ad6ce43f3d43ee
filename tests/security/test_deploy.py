"""Production settings: `check --deploy` has nothing to say, cookies and headers are the
hardened ones, the admin lives where ADMIN_URL says, and weak passwords are refused."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import clear_url_caches

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "portal.settings_production",
    "SECRET_KEY": "q7#Vx2!pL9zR$mT4wK8nB1cF6hJ3dS5gA0eY-uI_oP+lZ@xC&vN^bM*rQ(tW)yE",
    "ALLOWED_HOSTS": "wholesale.trailwise.example",
    "DEBUG": "false",
}


def _run(args, env):
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    return subprocess.run(
        [sys.executable, *args],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy_with_no_warnings():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_would_fail_on_a_weak_secret_key():
    """The control: the check does look at these settings."""
    env = {**PRODUCTION_ENV, "SECRET_KEY": "django-insecure-short"}

    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)

    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


PROBE = """
import json
from django.conf import settings as s
print(json.dumps({
    "session_cookie": [s.SESSION_COOKIE_NAME, s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY],
    "csrf_cookie": [s.CSRF_COOKIE_NAME, s.CSRF_COOKIE_SECURE],
    "hsts": [s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD],
    "ssl_redirect": s.SECURE_SSL_REDIRECT,
    "frame": s.X_FRAME_OPTIONS,
    "referrer": s.SECURE_REFERRER_POLICY,
    "csp": s.CONTENT_SECURITY_POLICY["DIRECTIVES"],
    "lockout": [s.AXES_LOCKOUT_PARAMETERS, s.AXES_FAILURE_LIMIT],
    "validators": [v["NAME"].rsplit(".", 1)[1] for v in s.AUTH_PASSWORD_VALIDATORS],
    "debug": s.DEBUG,
}))
"""


def test_production_cookies_headers_and_policies():
    result = _run(
        ["-c", "import django; django.setup(); " + PROBE.replace("\n", "\n")], PRODUCTION_ENV
    )
    assert result.returncode == 0, result.stderr
    s = json.loads(result.stdout.strip().splitlines()[-1])

    assert s["session_cookie"] == ["__Host-sessionid", True, True]
    assert s["csrf_cookie"] == ["__Host-csrftoken", True]
    assert s["hsts"] == [31536000, True, True]
    assert s["ssl_redirect"] is True
    assert s["frame"] == "DENY"
    assert s["referrer"] == "same-origin"
    assert s["csp"]["script-src"] == ["'self'"]
    assert s["csp"]["frame-ancestors"] == ["'none'"]
    assert s["lockout"] == [[["username", "ip_address"]], 5]
    assert set(s["validators"]) >= {
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
        "UserAttributeSimilarityValidator",
    }
    assert s["debug"] is False


@pytest.mark.django_db
def test_every_page_carries_the_security_headers(client):
    response = client.get("/accounts/login/")

    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp


@pytest.fixture
def admin_at(settings):
    """Reload the root URLconf with another ADMIN_URL, and back."""
    import portal.urls

    def move(path):
        settings.ADMIN_URL = path
        importlib.reload(portal.urls)
        clear_url_caches()

    yield move
    settings.ADMIN_URL = "admin/"
    importlib.reload(portal.urls)
    clear_url_caches()


@pytest.mark.django_db
def test_the_admin_lives_at_admin_url(admin_at):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)

    admin_at("back-office-7f3k/")

    assert client.get("/back-office-7f3k/").status_code == 200
    assert client.get("/admin/").status_code == 404


@pytest.mark.parametrize("password", ["short1", "password123", "12345678901234", "comfortshoes"])
@pytest.mark.django_db
def test_weak_passwords_are_refused(password):
    user = UserFactory(email="dana.reyes.shop@comfortshoes.example", full_name="Dana Reyes")

    with pytest.raises(ValidationError):
        validate_password(password, user=user)


@pytest.mark.django_db
def test_a_strong_password_is_accepted():
    validate_password("heel-toe-ridge-walker-42", user=UserFactory())

"""portal.settings reads the environment; with nothing set it needs no server at all."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json
import portal.settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST", ""),
    "options": db.get("OPTIONS", {}), "broker": s.CELERY_BROKER_URL,
    "transport": s.CELERY_BROKER_TRANSPORT_OPTIONS, "debug": s.DEBUG,
    "hosts": s.ALLOWED_HOSTS, "email": s.EMAIL_BACKEND, "admin": s.ADMIN_URL,
    "cache": s.CACHES["default"]["BACKEND"], "cache_at": s.CACHES["default"].get("LOCATION"),
}))
"""


def _settings_with(env: dict) -> dict:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "CELERY_BROKER_URL",
            "CACHE_URL",
            "EMAIL_URL",
            "DEBUG",
            "ALLOWED_HOSTS",
            "ADMIN_URL",
            "SECRET_KEY",
            "DJANGO_SETTINGS_MODULE",
        }
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_no_environment_gives_the_embedded_default():
    # when
    s = _settings_with({})

    # then: SQLite tuned for concurrent writers, and a broker that needs no server
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"].endswith("var/portal.sqlite3")
    assert s["options"]["transaction_mode"] == "IMMEDIATE"
    assert s["options"]["timeout"] == 20
    assert "journal_mode=WAL" in s["options"]["init_command"]
    assert s["broker"].startswith("filesystem://")
    assert s["transport"]["data_folder_in"].endswith("var/broker")
    assert s["debug"] is False
    assert s["email"] == "django.core.mail.backends.console.EmailBackend"
    # and a cache in each process
    assert s["cache"] == "django.core.cache.backends.locmem.LocMemCache"


def test_environment_selects_postgres_and_redis():
    # when
    s = _settings_with(
        {
            "DATABASE_URL": "postgres://portal:secret@db.internal:5433/wholesale",
            "CELERY_BROKER_URL": "redis://cache.internal:6379/2",
            "EMAIL_URL": "smtp://mailer:pw@smtp.internal:587/?tls=True",
            "DEBUG": "true",
            "ALLOWED_HOSTS": "portal.trailwise.example,localhost",
            "ADMIN_URL": "staff-only/",
        }
    )

    # then
    assert s["engine"] == "django.db.backends.postgresql"
    assert (s["name"], s["host"]) == ("wholesale", "db.internal")
    assert "transaction_mode" not in s["options"]
    assert s["broker"] == "redis://cache.internal:6379/2"
    assert "data_folder_in" not in s["transport"]
    assert s["debug"] is True
    assert s["hosts"] == ["portal.trailwise.example", "localhost"]
    assert s["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert s["admin"] == "staff-only/"
    # the cache every process shares is that Redis
    assert (s["cache"], s["cache_at"]) == (
        "portal.cache.SharedRedisCache",
        "redis://cache.internal:6379/2",
    )


def test_cache_url_names_the_shared_cache():
    s = _settings_with(
        {
            "CELERY_BROKER_URL": "redis://cache.internal:6379/0",
            "CACHE_URL": "redis://cache.internal:6379/1",
        }
    )

    assert (s["cache"], s["cache_at"]) == (
        "portal.cache.SharedRedisCache",
        "redis://cache.internal:6379/1",
    )

"""/healthz: 200 when the database and the broker answer, 503 when one does not."""

import socket

import pytest

from portal.celery import app as celery_app

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_healthz_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "broker": True}


def test_healthz_503_when_the_broker_is_unreachable(client, monkeypatch):
    # given: the broker URL points at a port nobody listens on
    # (celery reads CELERY_BROKER_URL from the environment before its own settings)
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    monkeypatch.setitem(celery_app.conf, "broker_url", url)

    # when
    response = client.get("/healthz")

    # then
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": True, "broker": False}

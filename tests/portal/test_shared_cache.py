"""With Redis configured, every process counts in one cache: the API throttle (and the
password-reset limits, which use the same cache) cannot be multiplied by the number of
processes. Redis being down never fails a request."""

import socket
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache, caches
from knox.models import AuthToken
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from portal.cache import SharedRedisCache, caches_for
from tests.factories import UserFactory
from tests.workers import ROOT, own_process_env

ANOTHER_PROCESS = """
import sys
import django
django.setup()
from django.test import Client
client = Client(HTTP_AUTHORIZATION="Token " + sys.argv[1])
print(" ".join(str(client.get("/api/v1/orders/").status_code) for _ in range(2)))
"""


def _another_process_calls(key: str, *, broker: str) -> list[int]:
    # Only the broker is named: a Redis broker makes the cache that Redis too.
    env = own_process_env(CELERY_BROKER_URL=broker, API_THROTTLE_RATE="3/minute")
    env.pop("CACHE_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", ANOTHER_PROCESS, key],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [int(code) for code in out.stdout.split()]


@pytest.mark.skipif(not django_settings.CELERY_BROKER_URL.startswith("redis"), reason="needs Redis")
@pytest.mark.django_db(transaction=True)
def test_two_processes_share_one_api_throttle_count(settings, monkeypatch):
    # given: this process and another one on the same Redis, 3 requests a minute each
    broker = settings.CELERY_BROKER_URL
    settings.CACHES = caches_for(broker)
    cache.clear()
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute"})
    _, key = AuthToken.objects.create(user=UserFactory())

    # when: the other process makes two requests, then this one two more
    theirs = _another_process_calls(key, broker=broker)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    mine = [api.get("/api/v1/orders/").status_code for _ in range(2)]

    # then: the fourth request of the user, whichever process got it, is refused
    assert theirs == [200, 200]
    assert mine == [200, 429]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_with_redis_down_requests_are_served_and_counted_locally(settings, buyer, buyer_api):
    # given: the cache's Redis does not answer
    settings.CACHES = caches_for(f"redis://127.0.0.1:{_closed_port()}/0")
    shared = caches["default"]
    assert isinstance(shared, SharedRedisCache)

    # when
    responses = [buyer_api.get("/api/v1/orders/").status_code for _ in range(3)]

    # then: served; Redis is left alone for a while and the throttle counts in this process
    assert responses == [200, 200, 200]
    assert shared._down_until > 0
    assert len(shared._fallback.get(f"throttle_user_{buyer.pk}")) == 3

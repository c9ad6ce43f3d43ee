"""The suite runs in pytest-xdist workers (`make test`): each worker's Celery broker, cache and
scratch brokers must be Redis databases no other worker uses."""

import pytest
from django.conf import settings

from tests.workers import (
    SCRATCH_OFFSETS,
    XDIST_WORKERS_MAX,
    redis_database_shifted,
    scratch_broker,
)


def test_redis_database_shifted_wraps_at_sixteen():
    assert redis_database_shifted("redis://127.0.0.1:6379/3", 14) == "redis://127.0.0.1:6379/1"
    assert redis_database_shifted("redis://127.0.0.1:6379", 2) == "redis://127.0.0.1:6379/2"


def test_workers_redis_databases_never_meet():
    used = [
        {(worker + offset) % 16 for offset in (0, *SCRATCH_OFFSETS)}
        for worker in range(XDIST_WORKERS_MAX)
    ]
    assert set.isdisjoint(*used)


@pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("redis://"), reason="the suite runs on Redis"
)
def test_this_workers_broker_cache_and_celery_agree():
    from portal.celery import app

    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    assert settings.CACHES["default"]["LOCATION"] == settings.CELERY_BROKER_URL
    assert scratch_broker(3) == redis_database_shifted(settings.CELERY_BROKER_URL, 3)

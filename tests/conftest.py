import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from portal.cache import caches_for
from tests.factories import (
    AccountFactory,
    CommercialTermsFactory,
    MembershipFactory,
    ShipToFactory,
    UserFactory,
    WarehouseFactory,
)
from tests.workers import XDIST_WORKERS_MAX, redis_database_shifted

# Threads racing on row locks: SQLite (the embedded default) serialises writers instead,
# and its in-memory test database is not shared between threads.
concurrent = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrency is defined on PostgreSQL"
)


def pytest_configure(config):
    """`make test` runs the suite in pytest-xdist worker processes. pytest-django gives each
    its own test database; here each also gets Redis databases of its own (the broker's
    database plus the worker's number, and scratch brokers beside it), so one worker's
    cache.clear() and flushdb() never touch another's queues or counts."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", ...
    if not worker or not settings.CELERY_BROKER_URL.startswith("redis://"):
        return
    number = int(worker.removeprefix("gw"))
    if number >= XDIST_WORKERS_MAX:
        raise pytest.UsageError(f"at most {XDIST_WORKERS_MAX} xdist workers share Redis")
    url = redis_database_shifted(settings.CELERY_BROKER_URL, number)
    # Celery reads the environment before its settings; processes the tests start inherit it.
    os.environ["CELERY_BROKER_URL"] = url
    settings.CELERY_BROKER_URL = url
    if "CACHE_URL" not in os.environ:
        settings.CACHES = caches_for(url)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Slow tests that need no database go first. pytest-django puts tests without a
    database last and pytest-xdist hands tests out in order: a long one there (the engine
    rerun on SQLite) would keep one worker busy while the other has nothing left to do."""

    def slow_without_database(item) -> bool:
        needs_database = item.get_closest_marker("django_db") or {
            "db",
            "transactional_db",
            "live_server",
        } & set(item.fixturenames)
        return bool(item.get_closest_marker("slow")) and not needs_database

    items.sort(key=lambda item: not slow_without_database(item))


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle, rate-limit and lockout counts live in the cache (Redis when the suite runs
    on Redis): each test starts with none."""
    cache.clear()


@pytest.fixture
def terms(db):
    return CommercialTermsFactory()


@pytest.fixture
def warehouse(db):
    return WarehouseFactory()


@pytest.fixture
def account(db, terms):
    account = AccountFactory()
    ShipToFactory(account=account)
    return account


@pytest.fixture
def other_account(db, terms):
    account = AccountFactory()
    ShipToFactory(account=account)
    return account


@pytest.fixture
def buyer(account):
    return MembershipFactory(account=account, user=UserFactory()).user


@pytest.fixture
def other_buyer(other_account):
    return MembershipFactory(account=other_account, user=UserFactory()).user


@pytest.fixture
def buyer_client(client, buyer):
    client.force_login(buyer)
    return client


def api_client_for(user):
    """An API client authenticated with a real token, as a retailer's system would be."""
    from knox.models import AuthToken

    _, key = AuthToken.objects.create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


@pytest.fixture
def buyer_api(buyer):
    return api_client_for(buyer)


@pytest.fixture
def other_api(other_buyer):
    return api_client_for(other_buyer)


@pytest.fixture
def document_renders(monkeypatch):
    """Issued-document renders queued (asked for or from the backlog), as (args, queue)
    instead of being published; the cache that keeps a render from being queued twice
    starts empty."""
    from orders.tasks import document_render_task

    queued: list[tuple] = []
    monkeypatch.setattr(
        document_render_task,
        "apply_async",
        lambda args, **kwargs: queued.append((tuple(args), kwargs.get("queue", "celery"))),
    )
    cache.clear()
    yield queued
    cache.clear()

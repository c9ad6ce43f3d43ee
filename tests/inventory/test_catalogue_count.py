"""The catalogue API's count: exact for an ordinary catalogue, cached for a minute only
once it is large (counting 300k SKUs is a scan on every page)."""

import pytest
from django.core.cache import cache

from inventory.api.views import CatalogueCountPaginator
from tests.factories import SKUFactory


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_a_small_catalogue_is_counted_exactly_on_every_page(buyer_api):
    # given
    SKUFactory.create_batch(3)
    first = buyer_api.get("/api/v1/skus/").json()["count"]
    # when
    SKUFactory.create_batch(2)
    second = buyer_api.get("/api/v1/skus/").json()["count"]
    # then
    assert (first, second) == (3, 5)


@pytest.mark.django_db
def test_a_large_count_is_reused_per_filter_until_it_expires(buyer_api, monkeypatch):
    # given a threshold the test catalogue reaches
    monkeypatch.setattr(CatalogueCountPaginator, "LARGE_COUNT", 3)
    skus = SKUFactory.create_batch(4)
    assert buyer_api.get("/api/v1/skus/").json()["count"] == 4
    # when one more SKU appears
    SKUFactory()
    # then the unfiltered count is the cached one, another filter is counted afresh,
    after_add = buyer_api.get("/api/v1/skus/?page=1").json()["count"]
    filtered = buyer_api.get(f"/api/v1/skus/?style={skus[0].style.number}").json()["count"]
    # and once the cached count is gone the new SKU is counted
    cache.clear()
    refreshed = buyer_api.get("/api/v1/skus/").json()["count"]
    assert (after_add, refreshed) == (4, 5)
    assert filtered == 1

"""Catalogue facets: the catalogue page and GET /api/v1/skus/ filter the same way, count
styles per facet value under the other filters, and never fail on bad values (a 400
naming the parameter in the API; ignored and reported on the page)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from inventory.facets import CatalogueFilter, facet_counts
from inventory.models import SKU, Gender, Replenishment, Season, Width
from inventory.pricing import priced
from tests.factories import (
    InboundLineFactory,
    InboundRunFactory,
    SKUFactory,
    StockLevelFactory,
    StyleFactory,
)
from tests.pricing.conftest import price_list_for

pytestmark = pytest.mark.django_db
SKUS = "/api/v1/skus/"


@pytest.fixture
def line(warehouse):
    """Three styles: a women's boot in Black and Navy (8 in stock, 9 sold out and due in
    20 days; FW26), a men's sandal in Black (wide, core; SS27), a women's clog in Sage
    (quick ship; no season)."""
    fw26 = Season.objects.create(code="FW26", name="Fall/Winter 2026", starts_on="2026-07-01")
    ss27 = Season.objects.create(code="SS27", name="Spring/Summer 2027", starts_on="2027-01-04")
    boot = StyleFactory(name="Chelsea Boot", category="Boots", gender=Gender.WOMEN, season=fw26)
    sandal = StyleFactory(name="Sport Sandal", category="Sandals", gender=Gender.MEN, season=ss27)
    clog = StyleFactory(name="Garden Clog", category="Clogs", gender=Gender.WOMEN)
    black, navy = {"style": boot, "color": "Black"}, {"style": boot, "color": "Navy"}
    skus = {
        "boot-black-8": SKUFactory(**black, size=Decimal("8"), price=Decimal("90")),
        "boot-black-9": SKUFactory(**black, size=Decimal("9"), price=Decimal("90")),
        "boot-navy-8": SKUFactory(**navy, size=Decimal("8"), price=Decimal("95")),
        "sandal": SKUFactory(
            style=sandal,
            color="Black",
            size=Decimal("10"),
            width=Width.WIDE,
            core=True,
            price=Decimal("40"),
        ),
        "clog": SKUFactory(
            style=clog, color="Sage", size=Decimal("7.5"), quick_ship=True, price=Decimal("60")
        ),
    }
    for name, sku in skus.items():
        StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=0 if name == "boot-black-9" else 5)
    run = InboundRunFactory(warehouse=warehouse, eta=timezone.localdate() + dt.timedelta(days=20))
    InboundLineFactory(run=run, sku=skus["boot-black-9"], quantity=50)
    return skus


def _filter(params, price_list=None):
    return CatalogueFilter(params, priced(SKU.objects.active(), price_list), ship_days=(2, 3))


def _styles(filterset):
    return set(filterset.qs.values_list("style__name", flat=True).distinct())


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": ["Boots", "Clogs"]}, {"Chelsea Boot", "Garden Clog"}),
        ({"gender": ["men"]}, {"Sport Sandal"}),
        ({"season": ["FW26", "SS27"]}, {"Chelsea Boot", "Sport Sandal"}),
        ({"color": ["Black"]}, {"Chelsea Boot", "Sport Sandal"}),
        ({"width": ["W"]}, {"Sport Sandal"}),
        ({"size": ["9"]}, set()),  # sold out: a size filter means pairs now
        ({"size": ["8", "7.5"]}, {"Chelsea Boot", "Garden Clog"}),
        ({"list": ["core", "quick_ship"]}, {"Sport Sandal", "Garden Clog"}),
        ({"price_min": "50", "price_max": "92"}, {"Chelsea Boot", "Garden Clog"}),
        ({"q": "navy"}, {"Chelsea Boot"}),
    ],
)
def test_each_filter_narrows_the_styles(line, params, expected):
    assert _styles(_filter(params)) == expected


def test_ships_by_counts_stock_and_runs_due_in_time(line):
    today = timezone.localdate()
    soon = _filter({"ships_by": (today + dt.timedelta(days=10)).isoformat()})
    assert line["boot-black-9"] not in soon.qs  # its run lands in 20 days
    assert line["boot-black-8"] in soon.qs  # from stock
    later = _filter({"ships_by": (today + dt.timedelta(days=40)).isoformat()})
    assert line["boot-black-9"] in later.qs
    assert not _filter({"ships_by": today.isoformat()}).qs.exists()  # nothing ships today


def test_the_price_range_is_the_accounts_price(line, account):
    price_list = price_list_for(account, percent_off="50")
    assert _styles(_filter({"price_max": "50"}, price_list)) == {
        "Chelsea Boot",  # 90 and 95 at half price
        "Sport Sandal",
        "Garden Clog",
    }
    assert _styles(_filter({"price_max": "50"})) == {"Sport Sandal"}


def test_facet_counts_apply_every_filter_but_their_own(line, django_assert_max_num_queries):
    filterset = _filter({"category": ["Boots"], "color": ["Black"]})
    assert filterset.is_valid()
    # the facets not filtered together, then each filtered one, then sizes in stock
    with django_assert_max_num_queries(4):
        counts = facet_counts(filterset)
    by = {
        facet: {v.value: (v.count, v.selected) for v in values} for facet, values in counts.items()
    }
    assert by["category"] == {"Boots": (1, True), "Sandals": (1, False)}  # Black only
    assert by["color"] == {"Black": (1, True), "Navy": (1, False)}  # Boots only
    assert by["size"] == {"8": (1, False)}  # size 9 of the Black boot is sold out
    assert by["gender"] == {"women": (1, False)}
    assert by["season"] == {"FW26": (1, False)}  # the Black boot; the sandal is no boot
    everything = _filter({})
    assert everything.is_valid()
    assert [v.label for v in facet_counts(everything)["season"]] == [
        "Spring/Summer 2027",  # newest first
        "Fall/Winter 2026",
    ]
    assert by["list"] == {"core": (0, False), "quick_ship": (0, False)}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"category": ["Boots"], "color": ["Black"]},
        {"width": ["M"], "list": ["core", "quick_ship"]},
        {"size": ["8"], "gender": ["women"]},
        {"season": ["FW26", "SS27"], "q": "boot"},
        {"price_max": "92", "ships_by": (timezone.localdate() + dt.timedelta(days=40)).isoformat()},
        {"ships_by": "2001-01-01"},  # nothing ships before today
    ],
)
def test_each_count_is_the_number_of_styles_its_value_would_show(line, params):
    filterset = _filter(params)
    assert filterset.is_valid()
    counts = facet_counts(filterset)
    for facet, values in counts.items():
        shown = {value.value: value.count for value in values}
        for choice, _ in filterset.form.fields[facet].choices:
            expected = len(_styles(_filter({**params, facet: [choice]})))
            assert shown.get(choice, 0) == expected, (facet, choice)
        for value in values:
            assert value.selected == (value.value in params.get(facet, ()))
    assert [v.value for v in counts["list"]] == ["core", "quick_ship"]  # zero or not


def test_the_api_takes_the_same_filters(buyer_api, line):
    response = buyer_api.get(SKUS, {"color": "Black", "size": "8", "category": "Boots"})
    assert response.status_code == 200
    assert [item["sku"] for item in response.json()["results"]] == [line["boot-black-8"].code]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"width": "XL"}, "width"),
        ({"size": "8.25"}, "size"),
        ({"color": "Purple"}, "color"),
        ({"gender": "kids"}, "gender"),
        ({"ships_by": "next week"}, "ships_by"),
        ({"price_min": "-1"}, "price_min"),
        ({"price_max": "lots"}, "price_max"),
        ({"list": "sale"}, "list"),
        ({"category": "\x00"}, "category"),
        ({"season": "XX99"}, "season"),
    ],
)
def test_bad_facet_values_are_a_400_in_the_api_naming_the_parameter(buyer_api, line, params, field):
    response = buyer_api.get(SKUS, params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_the_season_filter_is_in_the_url_the_page_and_the_api(buyer_api, buyer_client, line):
    response = buyer_api.get(SKUS, {"season": "SS27"})
    assert [item["sku"] for item in response.json()["results"]] == [line["sandal"].code]
    page = buyer_client.get(reverse("portal:catalogue"), {"season": "FW26"})
    body = page.content.decode()
    assert 'id="f-season-fw26" name="season" value="FW26" checked' in body
    assert "Chelsea Boot" in body
    assert "Sport Sandal" not in body
    assert 'id="f-season-ss27"' in body  # the other season, with its count, to add


def test_bad_facet_values_are_ignored_and_reported_on_the_page(buyer_client, line):
    response = buyer_client.get(reverse("portal:catalogue"), {"width": "XL", "color": "Black"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Some filters were ignored" in body
    assert "Sport Sandal" in body  # the good filter still applies
    assert "Garden Clog" not in body


def test_the_catalogue_page_shows_cards_with_counts_within_its_query_budget(
    buyer_client, account, line, django_assert_max_num_queries
):
    price_list_for(account, percent_off="10")
    url = reverse("portal:catalogue")
    with django_assert_max_num_queries(18):
        response = buyer_client.get(url, {"color": "Black", "view": "list"})
    body = response.content.decode()
    assert "2 styles" in body
    assert "$81.00" in body  # the boot at 10% off
    assert 'class="styles list"' in body
    assert 'id="f-color-navy"' in body  # the other colour, with its count, to add
    with django_assert_max_num_queries(18):
        partial = buyer_client.get(url, {"color": "Black"}, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode()
    assert "Chelsea Boot" in partial.content.decode()


def test_the_page_query_count_does_not_grow_with_the_catalogue(
    buyer_client, warehouse, django_assert_max_num_queries
):
    for n in range(40):
        style = StyleFactory(category=f"Cat {n % 5}", replenishment=Replenishment.COMMITTED)
        for color in ("Black", "Tan"):
            StockLevelFactory(sku=SKUFactory(style=style, color=color), warehouse=warehouse)
    with django_assert_max_num_queries(18):
        response = buyer_client.get(reverse("portal:catalogue"), {"page": "2"})
    assert "Page 2 of 2" in response.content.decode()


@pytest.mark.skipif(
    not getattr(cache, "is_shared", lambda: False)(),
    reason="counts are kept only in a cache every process shares (Redis): each version is",
)
def test_facet_counts_are_kept_for_the_same_filters_and_price_list(buyer_client, line):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("portal:catalogue")
    with CaptureQueriesContext(connection) as first:
        buyer_client.get(url, {"color": "Black"})
    with CaptureQueriesContext(connection) as again:
        page = buyer_client.get(url, {"color": "Black", "view": "list"})

    def catalogue(queries):  # the request's own, not the session's user and account
        return [q for q in queries if '"inventory_' in q["sql"]]

    # the counts (the facets not filtered, colours, sizes in stock), not the results
    assert len(catalogue(first)) - len(catalogue(again)) == 3
    assert 'id="f-color-navy"' in page.content.decode()
    with CaptureQueriesContext(connection) as other:
        buyer_client.get(url, {"color": "Navy"})
    assert len(catalogue(other)) == len(catalogue(first))  # other filters are counted afresh


@pytest.mark.parametrize("ships_by", ["9999-12-31", "0001-01-01"])
def test_dates_at_the_ends_of_the_calendar_are_answered(buyer_api, buyer_client, line, ships_by):
    assert buyer_api.get(SKUS, {"ships_by": ships_by}).status_code == 200
    assert buyer_client.get(reverse("portal:catalogue"), {"ships_by": ships_by}).status_code == 200


def test_one_process_counts_while_the_others_wait_for_its_answer(db, monkeypatch):
    from inventory import facets

    key = "test-facets:counted-once"
    cache.delete_many([key, f"{key}:counting"])
    cache.add(f"{key}:counting", 1, 30)  # another process is counting
    monkeypatch.setattr(facets.time, "sleep", lambda s: cache.set(key, "theirs", 60))
    assert facets.counted_once(key, lambda: pytest.fail("counted twice")) == "theirs"

    cache.delete_many([key, f"{key}:counting"])
    cache.add(f"{key}:counting", 1, 30)  # the other gives up without an answer
    monkeypatch.setattr(facets.time, "sleep", lambda s: cache.delete(f"{key}:counting"))
    assert facets.counted_once(key, lambda: "ours") == "ours"
    assert cache.get(key) == "ours"
    assert cache.get(f"{key}:counting") is None


def test_a_request_counts_the_part_nobody_is_counting_first(line, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inventory import facets

    filterset = _filter({})
    assert filterset.is_valid()
    keys = facets.CountKeys(catalogue="test-facets:catalogue", stock="test-facets:stock")
    cache.delete_many([keys.catalogue, keys.stock, f"{keys.stock}:counting"])
    cache.set(f"{keys.catalogue}:counting", 1, 30)  # another request counts the catalogue
    other = _filter({})
    assert other.is_valid()
    theirs = facet_counts(other)
    monkeypatch.setattr(facets.time, "sleep", lambda s: cache.set(keys.catalogue, theirs, 60))
    with CaptureQueriesContext(connection) as queries:
        counts = facet_counts(filterset, cache_keys=keys)
    assert counts == theirs
    assert len(queries) == 1  # sizes in stock, counted while the other counted the rest
    assert "inventory_stocklevel" in queries[0]["sql"]
    assert cache.get(keys.stock) == {"size": theirs["size"]}
    cache.delete_many([keys.catalogue, keys.stock, f"{keys.catalogue}:counting"])

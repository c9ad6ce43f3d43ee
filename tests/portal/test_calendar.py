import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.models import EtaChange, InboundStatus
from inventory.selectors import style_future_ats
from portal.selectors import style_availability
from tests.factories import (
    InboundLineFactory,
    InboundRunFactory,
    SKUFactory,
    StockLevelFactory,
    StyleFactory,
)


def days(n):
    return timezone.localdate() + dt.timedelta(days=n)


@pytest.fixture
def schedule(warehouse):
    sandal = StyleFactory(number="SAN1", name="Harbor Sandal", category="Sandals")
    boot = StyleFactory(number="BOOT1", name="Ridge Boot", category="Boots")
    soon = InboundRunFactory(reference="RUN-SOON", eta=days(10), warehouse=warehouse)
    InboundLineFactory(run=soon, sku=SKUFactory(style=sandal), quantity=40)
    moved = InboundRunFactory(
        reference="RUN-MOVED", eta=days(30), status=InboundStatus.IN_TRANSIT, warehouse=warehouse
    )
    InboundLineFactory(run=moved, sku=SKUFactory(style=boot), quantity=24)
    EtaChange.objects.create(
        run=moved, old_eta=days(16), new_eta=days(30), reason="Port congestion"
    )
    late = InboundRunFactory(reference="RUN-LATE", eta=days(-3), warehouse=warehouse)
    InboundLineFactory(run=late, sku=SKUFactory(style=boot), quantity=10)
    far = InboundRunFactory(reference="RUN-FAR", eta=days(120), warehouse=warehouse)
    InboundLineFactory(run=far, sku=SKUFactory(style=sandal))
    done = InboundRunFactory(
        reference="RUN-DONE", eta=days(5), status=InboundStatus.RECEIVED, warehouse=warehouse
    )
    InboundLineFactory(run=done, sku=SKUFactory(style=sandal))
    return {"sandal": sandal, "boot": boot}


def test_calendar_shows_open_runs_of_the_next_twelve_weeks(
    buyer_client, schedule, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        response = buyer_client.get(reverse("portal:calendar"))
    assert response.status_code == 200
    page = response.content.decode()
    references = [row.run.reference for row in response.context["cal"].runs]
    assert references == ["RUN-LATE", "RUN-SOON", "RUN-MOVED"]
    assert "RUN-FAR" not in page
    assert "RUN-DONE" not in page
    assert "Harbor Sandal" in page
    assert "Ridge Boot" in page
    assert "In transit" in page
    old, new = days(16), days(30)
    assert f"ETA moved from {old:%b} {old.day} to {new:%b} {new.day}" in page
    assert "Port congestion" in page
    rows = {row.run.reference: row for row in response.context["cal"].runs}
    assert rows["RUN-LATE"].overdue
    assert rows["RUN-MOVED"].moved_from_column < rows["RUN-MOVED"].column


def test_calendar_query_count_does_not_grow_with_runs(
    buyer_client, schedule, warehouse, django_assert_max_num_queries
):
    for i in range(15):
        run = InboundRunFactory(eta=days(7 + i * 3), warehouse=warehouse)
        InboundLineFactory(run=run, sku=SKUFactory(style=schedule["boot"], color=f"Tan {i}"))
        EtaChange.objects.create(run=run, old_eta=days(i), new_eta=run.eta, reason="x")
    with django_assert_max_num_queries(12):
        response = buyer_client.get(reverse("portal:calendar"))
    assert len(response.context["cal"].runs) == 18


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "sandals"}, ["RUN-SOON"]),
        ({"style": "BOOT1"}, ["RUN-LATE", "RUN-MOVED"]),
        ({"category": "Boots", "style": "SAN1"}, []),
        ({"category": "x" * 500}, []),
    ],
)
def test_calendar_filters_by_category_and_style(buyer_client, schedule, params, expected):
    response = buyer_client.get(reverse("portal:calendar"), params)
    assert response.status_code == 200
    assert [row.run.reference for row in response.context["cal"].runs] == expected


def test_calendar_filter_with_htmx_returns_only_the_grid(buyer_client, schedule):
    response = buyer_client.get(
        reverse("portal:calendar"), {"category": "Sandals"}, HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<section id="calendar-grid"')
    assert "RUN-SOON" in page
    assert "RUN-MOVED" not in page


def test_availability_chart_sums_future_ats_per_colour(
    buyer_client, warehouse, django_assert_max_num_queries
):
    # given: two black sizes and one brown, stock now and a run in two weeks
    style = StyleFactory(number="WLK9", name="Walker")
    black_8 = SKUFactory(style=style, color="Black")
    black_9 = SKUFactory(style=style, color="Black")
    brown = SKUFactory(style=style, color="Brown")
    StockLevelFactory(sku=black_8, warehouse=warehouse, on_hand=5)
    StockLevelFactory(sku=black_9, warehouse=warehouse, on_hand=7, allocated=2)
    run = InboundRunFactory(eta=days(14), warehouse=warehouse)
    InboundLineFactory(run=run, sku=brown, quantity=30, promised=6)
    # when
    with django_assert_max_num_queries(8):
        response = buyer_client.get(reverse("portal:style_availability", args=["wlk9"]))
    # then
    assert response.status_code == 200
    data = response.context["availability"]
    series = style_future_ats(style=style)
    assert data["rows"][0]["values"] == [
        a.ats + b.ats for a, b in zip(series[black_8.pk], series[black_9.pk], strict=True)
    ]
    assert data["rows"][0]["values"][0] == 10
    assert data["rows"][1] == {"color": "Brown", "values": [0, 0] + [24] * 11}
    page = response.content.decode()
    island = page.split('id="availability-data-WLK9" type="application/json">')[1]
    chart = json.loads(island.split("</script>")[0])
    assert [d["label"] for d in chart["datasets"]] == ["Black", "Brown"]
    assert chart["datasets"][1]["data"] == [0, 0] + [24] * 11
    assert "<script>" not in page  # CSP: no inline script, only the data island


def test_availability_of_unknown_style_is_404(buyer_client, db):
    response = buyer_client.get(reverse("portal:style_availability", args=["NOPE"]))
    assert response.status_code == 404


def test_availability_selector_without_skus_is_empty(db):
    assert style_availability(style=StyleFactory())["rows"] == []


def test_calendar_requires_login(client, db):
    assert client.get(reverse("portal:calendar")).status_code == 302

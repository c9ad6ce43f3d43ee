import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.api.views import SKUListView
from inventory.models import EtaChange, InboundLine, InboundRun, InboundStatus, Replenishment
from tests.conftest import api_client_for
from tests.factories import (
    InboundLineFactory,
    InboundRunFactory,
    SKUFactory,
    StaffFactory,
    StockLevelFactory,
    StyleFactory,
)
from tests.inventory.conftest import staff_with

pytestmark = pytest.mark.django_db

SKUS = "/api/v1/skus/"
INBOUND = "/api/v1/inbound/"


def today():
    return timezone.localdate()


def test_sku_list_item_shape(buyer_api, warehouse):
    # given
    from decimal import Decimal

    sku = SKUFactory(size=Decimal("8.5"), core=True, style=StyleFactory(number="ST-77"))
    StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=10, allocated=2, holdback=1)
    eta = today() + dt.timedelta(days=12)
    InboundLineFactory(sku=sku, run=InboundRunFactory(eta=eta))

    # when
    response = buyer_api.get(SKUS)

    # then
    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "sku": sku.code,
            "upc": sku.upc,
            "style": "ST-77",
            "color": "Black",
            "size": "8.5",
            "width": "M",
            "price": "60.00",
            "msrp": "130.00",
            "ats": 7,
            "next_eta": eta.isoformat(),
            "core": True,
            "replenishment": Replenishment.COMMITTED,
        }
    ]


def test_sku_list_filters_by_style_query_and_core(buyer_api):
    a = SKUFactory(style=StyleFactory(number="ST-A"), core=True, color="Walnut")
    b = SKUFactory(style=StyleFactory(number="ST-B"), core=False)
    SKUFactory(style=a.style, active=False, color="Red")

    def codes(query):
        response = buyer_api.get(SKUS, query)
        assert response.status_code == 200
        return [item["sku"] for item in response.json()["results"]]

    assert codes({"style": "st-a"}) == [a.code]
    assert codes({"q": "walnut"}) == [a.code]
    assert codes({"q": b.upc}) == [b.code]
    assert codes({"core": "true"}) == [a.code]
    assert sorted(codes({})) == sorted([a.code, b.code])  # the inactive one is not sold


def test_sku_list_rejects_a_bad_filter_naming_it(buyer_api):
    response = buyer_api.get(SKUS, {"core": "maybe"})
    assert response.status_code == 400
    assert "core" in response.json()["errors"]


def test_a_page_of_50_skus_takes_a_constant_number_of_queries(
    buyer_api, warehouse, django_assert_max_num_queries
):
    # given 60 SKUs, each with stock in the warehouse and on two runs
    runs = [InboundRunFactory(eta=today() + dt.timedelta(days=d)) for d in (10, 30)]
    for n in range(60):
        sku = SKUFactory(color=f"Colour {n // 17}")
        StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=5)
        for run in runs:
            InboundLineFactory(sku=sku, run=run)

    # when / then: token and user, the user's other tokens, the caller's account and its
    # price list, count, page, inbound lines, run ETAs
    with django_assert_max_num_queries(8):
        response = buyer_api.get(SKUS)
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], len(body["results"])) == (60, 50)
    assert {item["next_eta"] for item in body["results"]} == {runs[0].eta.isoformat()}
    assert {item["ats"] for item in body["results"]} == {5}


def test_a_later_page_shows_its_own_rows_ats_and_next_eta(buyer_api, warehouse):
    # given 60 SKUs of one style, each with its own stock, the last one inbound
    style = StyleFactory()
    skus = [SKUFactory(style=style, color=f"Colour {n:02d}") for n in range(60)]
    for n, sku in enumerate(skus):
        StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=n)
    eta = today() + dt.timedelta(days=9)
    InboundLineFactory(sku=skus[-1], run=InboundRunFactory(eta=eta))

    # when
    body = buyer_api.get(SKUS, {"page": 2}).json()

    # then
    assert [(item["sku"], item["ats"]) for item in body["results"]] == [
        (sku.code, n) for n, sku in enumerate(skus) if n >= 50
    ]
    assert [item["next_eta"] for item in body["results"]][-2:] == [None, eta.isoformat()]


def test_a_filter_is_compiled_once_and_read_afresh_on_every_page(buyer_api, warehouse, monkeypatch):
    # given a filtered page already served once
    monkeypatch.setattr(SKUListView, "compiled", {})
    style = StyleFactory(number="ST-F")
    first = SKUFactory(style=style, color="Red")
    level = StockLevelFactory(sku=first, warehouse=warehouse, on_hand=8)
    assert [i["ats"] for i in buyer_api.get(SKUS, {"style": "st-f"}).json()["results"]] == [8]
    (compiled,) = SKUListView.compiled.values()

    # when the stock, the runs and the catalogue change
    level.allocated = 3
    level.save(update_fields=["allocated"])
    eta = today() + dt.timedelta(days=4)
    InboundLineFactory(sku=first, run=InboundRunFactory(eta=eta))
    second = SKUFactory(style=style, color="Tan")

    # then the next request, through the same compiled query, sees all of it
    body = buyer_api.get(SKUS, {"style": "st-f"}).json()
    assert list(SKUListView.compiled.values()) == [compiled]
    assert body["count"] == 2
    assert [(i["sku"], i["ats"], i["next_eta"]) for i in body["results"]] == [
        (first.code, 5, eta.isoformat()),
        (second.code, 0, None),
    ]


def test_an_invalid_filter_is_refused_every_time_and_never_kept(buyer_api, monkeypatch):
    monkeypatch.setattr(SKUListView, "compiled", {})
    for _ in range(2):
        response = buyer_api.get(SKUS, {"core": "maybe"})
        assert response.status_code == 400
        assert "core" in response.json()["errors"]
    assert SKUListView.compiled == {}


def test_the_compiled_filters_kept_are_bounded(buyer_api, monkeypatch):
    monkeypatch.setattr(SKUListView, "compiled", {})
    monkeypatch.setattr(SKUListView, "COMPILED_MAX", 2)
    for q in ("a", "b", "c"):
        assert buyer_api.get(SKUS, {"q": q}).status_code == 200
    assert 0 < len(SKUListView.compiled) <= 2


def test_the_api_needs_a_token():
    response = APIClient().get(SKUS)
    assert response.status_code in (401, 403)


def test_availability_now_and_weekly_for_twelve_weeks(buyer_api, warehouse):
    sku = SKUFactory()
    StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=9, allocated=4)
    InboundLineFactory(
        sku=sku, quantity=20, promised=5, run=InboundRunFactory(eta=today() + dt.timedelta(days=8))
    )

    response = buyer_api.get(f"{SKUS}{sku.code.lower()}/availability/")

    assert response.status_code == 200
    body = response.json()
    assert (body["sku"], body["ats"]) == (sku.code, 5)
    assert [point["date"] for point in body["by_date"]] == [
        (today() + dt.timedelta(weeks=week)).isoformat() for week in range(13)
    ]
    assert [point["ats"] for point in body["by_date"]] == [5, 5] + [20] * 11


@pytest.mark.parametrize("code", ["NOPE", "{inactive}"])
def test_availability_of_an_unknown_or_inactive_sku_is_404(buyer_api, code):
    inactive = SKUFactory(active=False)
    response = buyer_api.get(f"{SKUS}{code.format(inactive=inactive.code)}/availability/")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_inbound_calendar_lists_open_runs_with_lines_and_eta_history(
    other_api, django_assert_max_num_queries
):
    # given two open runs (one moved once) and a received one
    planner = StaffFactory()
    moved = InboundRunFactory(reference="RUN-B", factory="Porto", eta=today() + dt.timedelta(20))
    line = InboundLineFactory(run=moved, quantity=30, received=0)
    EtaChange.objects.create(
        run=moved, old_eta=today(), new_eta=moved.eta, reason="Port", changed_by=planner
    )
    for n in range(5):
        run = InboundRunFactory(eta=today() + dt.timedelta(days=30 + n))
        InboundLineFactory.create_batch(3, run=run)
    InboundRunFactory(status=InboundStatus.RECEIVED)

    # when: token, user, count, runs, lines, history, ETAs
    with django_assert_max_num_queries(8):
        response = other_api.get(INBOUND)

    # then
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 6
    first = results[0]
    assert first["reference"] == "RUN-B"
    assert (first["factory"], first["status"], first["eta"]) == (
        "Porto",
        "confirmed",
        moved.eta.isoformat(),
    )
    assert first["lines"] == [{"sku": line.sku.code, "quantity": 30, "received": 0}]
    assert [(h["old_eta"], h["new_eta"]) for h in first["eta_history"]] == [
        (today().isoformat(), moved.eta.isoformat())
    ]


def test_inbound_calendar_filters_by_status_and_rejects_unknown_ones(buyer_api):
    InboundRunFactory(status=InboundStatus.RECEIVED, reference="DONE")
    InboundRunFactory(reference="OPEN")
    response = buyer_api.get(INBOUND, {"status": "received"})
    assert [run["reference"] for run in response.json()["results"]] == ["DONE"]
    response = buyer_api.get(INBOUND, {"status": "received,lost"})
    assert response.status_code == 400
    assert "status" in response.json()["errors"]


def inbound_body(sku, **overrides):
    return {
        "reference": "PO-100",
        "eta": (today() + dt.timedelta(days=45)).isoformat(),
        "lines": [{"sku": sku.code, "quantity": 24}],
        **overrides,
    }


def test_a_planner_creates_then_updates_a_run_by_reference(planner_api, warehouse):
    a, b = SKUFactory(), SKUFactory()
    created = planner_api.post(INBOUND, inbound_body(a, status="confirmed"), format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "confirmed"
    assert created.json()["lines"] == [{"sku": a.code, "quantity": 24, "received": 0}]

    body = inbound_body(a, lines=[{"sku": a.code, "quantity": 30}, {"sku": b.code, "quantity": 6}])
    updated = planner_api.post(INBOUND, body, format="json")
    assert updated.status_code == 200, updated.json()
    assert dict(InboundLine.objects.values_list("sku__code", "quantity")) == {
        a.code: 30,
        b.code: 6,
    }


def test_posting_a_different_eta_for_an_existing_run_is_a_conflict(planner_api, warehouse):
    run = InboundRunFactory(reference="PO-100")
    line = InboundLineFactory(run=run)
    body = inbound_body(line.sku, eta=(run.eta + dt.timedelta(days=3)).isoformat())
    response = planner_api.post(INBOUND, body, format="json")
    assert response.status_code == 409
    assert "/api/v1/inbound/PO-100/eta/" in response.json()["detail"]
    assert "eta" in response.json()["errors"]
    run.refresh_from_db()
    assert run.eta == InboundRun.objects.get(pk=run.pk).eta
    assert not EtaChange.objects.exists()


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (
            {"lines": [{"sku": "{sku}", "quantity": 5}, {"sku": "GHOST", "quantity": 5}]},
            "lines[1].sku",
        ),
        ({"lines": [{"sku": "{sku}", "quantity": 0}]}, "lines[0].quantity"),
        ({"lines": [{"sku": "{sku}"}]}, "lines[0].quantity"),
        ({"lines": []}, "lines"),
        ({"eta": "next week"}, "eta"),
        ({"status": "received"}, "status"),
        ({"reference": ""}, "reference"),
    ],
)
def test_bad_inbound_input_is_a_400_naming_the_field_or_line(planner_api, warehouse, change, key):
    sku = SKUFactory()
    if "lines" in change:
        change = {
            "lines": [{**line, "sku": line["sku"].format(sku=sku.code)} for line in change["lines"]]
        }
    response = planner_api.post(INBOUND, inbound_body(sku, **change), format="json")
    assert response.status_code == 400
    assert key in response.json()["errors"], response.json()
    assert not InboundRun.objects.exists()


def test_retailers_and_staff_without_the_permission_cannot_push_runs(buyer_api, warehouse):
    sku = SKUFactory()
    viewer = api_client_for(staff_with("view_inboundrun", "add_inboundrun"))
    for client in (buyer_api, viewer):
        response = client.post(INBOUND, inbound_body(sku), format="json")
        assert response.status_code == 403
    assert not InboundRun.objects.exists()


def test_the_schema_describes_the_inventory_endpoints(buyer_api):
    response = buyer_api.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ["/api/v1/skus/", "/api/v1/skus/{sku}/availability/", "/api/v1/inbound/"]:
        assert path in text
    assert "InboundUpsert" in text

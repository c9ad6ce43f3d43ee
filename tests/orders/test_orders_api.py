import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.models import StockLevel
from orders.models import Order, OrderSource, OrderStatus
from tests.conftest import api_client_for
from tests.factories import AccountFactory, MembershipFactory, RepFactory
from tests.orders.conftest import inbound_for, make_fill_in, stocked_sku

URL = "/api/v1/orders/"


@pytest.fixture
def sku(warehouse):
    return stocked_sku(warehouse=warehouse, on_hand=10, price=Decimal("60.00"))


@pytest.fixture
def fill_in(account):
    make_fill_in(account)
    return account


def body(sku, quantity=12, **extra):
    return {"po_number": "PO-1", "lines": [{"sku": sku.code, "quantity": quantity}], **extra}


def test_place_returns_201_with_the_split(fill_in, buyer_api, sku, warehouse):
    inbound_for(sku=sku, warehouse=warehouse)
    response = buyer_api.post(
        URL,
        body(sku, 15),  # a client's own price, status or total is refused (test_unknown_fields)
        format="json",
        HTTP_IDEMPOTENCY_KEY="abc-1",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == OrderStatus.OPEN
    assert data["number"].startswith("SO-")
    (line,) = data["lines"]
    assert (line["allocated"], line["backordered"], line["cancelled"]) == (10, 5, 0)
    assert line["unit_price"] == "60.00"
    assert line["expected_date"] is not None
    assert line["promised_date"] is not None
    assert data["total"] == "900.00"
    assert data["freight"] == "0.00"
    assert Order.objects.get(number=data["number"]).source == OrderSource.API


def test_a_new_order_is_answered_as_it_reads_back(fill_in, buyer_api, sku, warehouse):
    # given a line in stock and a line partly backordered, and dates set
    inbound_for(sku=sku, warehouse=warehouse)
    other = stocked_sku(warehouse=warehouse, on_hand=50)
    cancel_on = timezone.localdate() + dt.timedelta(days=90)
    payload = {
        **body(sku, 15),
        "cancel_date": cancel_on.isoformat(),
        "lines": [{"sku": sku.code, "quantity": 15}, {"sku": other.code, "quantity": 6}],
    }
    # when placed, the 201 is built from the rows just written (nothing read back)
    created = buyer_api.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="echo")
    assert created.status_code == 201, created.json()
    # then it is exactly what reading the order gives: the detail and the retry's 200
    number = created.json()["number"]
    assert buyer_api.get(f"{URL}{number}/").json() == created.json()
    again = buyer_api.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="echo")
    assert again.json() == created.json()
    first, second = created.json()["lines"]
    assert (first["backordered"], first["expected_date"]) == (5, first["promised_date"])
    assert (second["allocated"], second["expected_date"]) == (6, None)


def test_order_representation_matches_drf_field_by_field(fill_in, buyer, sku, warehouse):
    # the serializers read their fields directly; DRF's generic path gives the same
    from rest_framework import serializers

    from orders.api.ordering import LineOutSerializer, OrderOutSerializer
    from orders.services import LineRequest, order_place

    inbound_for(sku=sku, warehouse=warehouse)
    order = order_place(
        account=fill_in,
        user=buyer,
        lines=[LineRequest(sku.code, 15)],
        requested_ship_date=timezone.localdate() + dt.timedelta(days=3),
    ).order
    order.prefetched_lines = list(order.lines.select_related("sku"))
    out = OrderOutSerializer(order)
    assert out.to_representation(order) == serializers.Serializer.to_representation(out, order)
    line = LineOutSerializer(order.prefetched_lines[0], context={"expected": {}})
    generic = serializers.Serializer.to_representation(line, order.prefetched_lines[0])
    assert line.to_representation(order.prefetched_lines[0]) == generic
    assert list(out.data) == list(out.fields)


@pytest.mark.parametrize("count", [1, 10])
def test_placing_over_the_api_is_a_fixed_number_of_queries(
    count, fill_in, buyer_api, warehouse, django_assert_max_num_queries
):
    skus = [stocked_sku(warehouse=warehouse, on_hand=20) for _ in range(count)]
    payload = {"lines": [{"sku": sku.code, "quantity": 12 // count} for sku in skus]}
    # token, account; in one statement the terms in force with the default ship-to,
    # earlier orders, listening webhook endpoints and the price list, the members with
    # their confirmation preferences, the SKUs and their stock (no lock); then in a
    # transaction (2 savepoints): the key's lock, the lookup of an order with the key,
    # the pks of the order, its lines and its confirmation's rows and the account's credit
    # lock in one; the credit position (balance, on order, invoices past due) in one; then
    # in one round trip the order, its lines, their allocations, the confirmation's rows
    # (pictures and dates are read by the worker) and the stock locked and allocated. No
    # webhook endpoint: none is read again. The response is built from what was written.
    with django_assert_max_num_queries(8):
        response = buyer_api.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="ten")
    assert response.status_code == 201
    assert [line["allocated"] for line in response.json()["lines"]] == [12 // count] * count


def test_same_key_and_body_returns_200_and_the_same_order(fill_in, buyer_api, sku):
    first = buyer_api.post(URL, body(sku), format="json", HTTP_IDEMPOTENCY_KEY="k")
    again = buyer_api.post(URL, body(sku), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["number"] == first.json()["number"]
    assert StockLevel.objects.get(sku=sku).allocated == 10


def test_same_key_other_body_is_422(fill_in, buyer_api, sku):
    buyer_api.post(URL, body(sku), format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = buyer_api.post(URL, body(sku, 13), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["errors"]
    assert Order.objects.filter(idempotency_key="k").count() == 1


def test_key_in_flight_is_409(fill_in, buyer_api, sku, monkeypatch):
    from orders import locks

    monkeypatch.setattr(
        locks, "placement_start", lambda **kwargs: locks.PlacementStart(False, None, None)
    )
    response = buyer_api.post(URL, body(sku), format="json", HTTP_IDEMPOTENCY_KEY="busy")
    assert response.status_code == 409
    assert not Order.objects.filter(idempotency_key="busy").exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": "X", "quantity": "many"}]}, "lines[0].quantity"),
        ({"lines": [{"quantity": 3}]}, "lines[0].sku"),
        ({"backorders": "maybe"}, "backorders"),
        ({"cancel_date": "31/12/2026"}, "cancel_date"),
        ({"ship_to": "home"}, "ship_to"),
    ],
)
def test_malformed_bodies_are_400_naming_the_field(fill_in, buyer_api, sku, payload, field):
    response = buyer_api.post(URL, {**body(sku), **payload}, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Order.objects.exclude(number__startswith="SO-PREV").exists()


def test_domain_errors_are_400_keyed_by_line(fill_in, buyer_api, sku):
    payload = {
        "lines": [
            {"sku": sku.code, "quantity": 6},
            {"sku": "NOPE", "quantity": 6},
            {"sku": sku.code, "quantity": -1},
        ],
        "requested_ship_date": (timezone.localdate() - dt.timedelta(days=2)).isoformat(),
    }
    response = buyer_api.post(URL, payload, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "lines[1].sku" in errors
    assert "lines[2].quantity" in errors
    assert "requested_ship_date" in errors


def test_not_json_is_400_not_500(fill_in, buyer_api):
    response = buyer_api.generic("POST", URL, "{not json", content_type="application/json")
    assert response.status_code == 400


def test_viewer_gets_403(fill_in, sku):
    from orders.models import MembershipRole

    viewer = MembershipFactory(account=fill_in, role=MembershipRole.VIEWER).user
    response = api_client_for(viewer).post(URL, body(sku), format="json")
    assert response.status_code == 403
    assert not Order.objects.exclude(number__startswith="SO-PREV").exists()


def test_several_accounts_must_name_one(fill_in, buyer, buyer_api, sku):
    second = AccountFactory()
    make_fill_in(second)
    MembershipFactory(account=second, user=buyer)
    assert buyer_api.post(URL, body(sku), format="json").status_code == 400
    response = buyer_api.post(URL, body(sku, account=second.number), format="json")
    assert response.status_code == 201
    assert response.json()["account"] == second.number
    other = AccountFactory()
    response = buyer_api.post(URL, body(sku, account=other.number), format="json")
    assert response.status_code == 400
    assert "account" in response.json()["errors"]


def test_rep_orders_for_assigned_account(fill_in, sku):
    rep = RepFactory()
    fill_in.rep = rep
    fill_in.save()
    response = api_client_for(rep).post(URL, body(sku), format="json")
    assert response.status_code == 201
    assert response.json()["placed_by"] == str(rep)


def test_list_is_scoped_filtered_and_paginated(
    fill_in, buyer_api, other_api, warehouse, django_assert_max_num_queries
):
    sku = stocked_sku(warehouse=warehouse, on_hand=100)
    for po in ("A-1", "A-2", "B-1"):
        assert buyer_api.post(URL, body(sku, 6, po_number=po), format="json").status_code == 201
    with django_assert_max_num_queries(8):
        response = buyer_api.get(URL, {"po_number": "A-"})
    assert response.status_code == 200
    data = response.json()
    assert {row["po_number"] for row in data["results"]} == {"A-1", "A-2"}
    assert "next" in data
    today = timezone.localdate().isoformat()
    placed_today = buyer_api.get(URL, {"placed_after": today, "po_number": "-"}).json()
    assert len(placed_today["results"]) == 3
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert buyer_api.get(URL, {"placed_after": tomorrow}).json()["results"] == []
    assert buyer_api.get(URL, {"status": "cancelled"}).json()["results"] == []
    assert buyer_api.get(URL, {"status": "nonsense"}).status_code == 400
    assert buyer_api.get(URL, {"placed_before": "yesterday"}).status_code == 400
    assert other_api.get(URL).json()["results"] == []


def test_detail_and_other_accounts_404(fill_in, buyer_api, other_api, sku):
    number = buyer_api.post(URL, body(sku), format="json").json()["number"]
    response = buyer_api.get(f"{URL}{number}/")
    assert response.status_code == 200
    assert response.json()["lines"][0]["quantity"] == 12
    assert other_api.get(f"{URL}{number}/").status_code == 404
    assert other_api.post(f"{URL}{number}/cancel/", {}, format="json").status_code == 404
    assert buyer_api.get(f"{URL}SO-NOPE/").status_code == 404


def test_cancel_some_then_all(fill_in, buyer_api, sku):
    data = buyer_api.post(URL, body(sku, 8), format="json").json()
    line_id = data["lines"][0]["id"]
    response = buyer_api.post(
        f"{URL}{data['number']}/cancel/", {"lines": [{"id": line_id, "quantity": 3}]}
    )
    assert response.status_code == 200
    assert response.json()["lines"][0]["cancelled"] == 3
    assert StockLevel.objects.get(sku=sku).allocated == 5
    response = buyer_api.post(f"{URL}{data['number']}/cancel/", {}, format="json")
    assert response.json()["status"] == OrderStatus.CANCELLED
    assert StockLevel.objects.get(sku=sku).allocated == 0


def test_cancel_bad_lines_are_400(fill_in, buyer_api, sku):
    data = buyer_api.post(URL, body(sku, 8), format="json").json()
    url = f"{URL}{data['number']}/cancel/"
    line_id = data["lines"][0]["id"]
    response = buyer_api.post(url, {"lines": [{"id": line_id, "quantity": 99}]}, format="json")
    assert response.status_code == 400
    assert "lines[0].quantity" in response.json()["errors"]
    response = buyer_api.post(url, {"lines": [{"id": "x"}]}, format="json")
    assert response.status_code == 400
    assert StockLevel.objects.get(sku=sku).allocated == 8


def test_unauthenticated_is_refused(client):
    assert client.get(URL).status_code in (401, 403)


def test_schema_documents_the_idempotency_header(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Idempotency-Key" in text

"""Idempotency-Key on POST /api/v1/orders/ (IETF httpapi idempotency-key draft):
same key and body -> the same order (200); same key, other body -> 422; the same key
while the first request is still running -> 409. The key is optional."""

import threading

import pytest
from django.db import connection

from orders import locks
from orders.models import Order
from tests.conftest import api_client_for, concurrent

URL = "/api/v1/orders/"


def order_body(world, quantity=6):
    return {"po_number": "PO-IDEM", "lines": [{"sku": world.sku.code, "quantity": quantity}]}


def test_retry_with_the_same_key_and_body_returns_the_first_order(world, buyer_api):
    first = buyer_api.post(URL, order_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = buyer_api.post(URL, order_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Order.objects.filter(idempotency_key="k-1").count() == 1


def test_the_same_key_with_another_body_is_422_and_places_nothing(world, buyer_api):
    buyer_api.post(URL, order_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    response = buyer_api.post(
        URL, order_body(world, quantity=7), format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["Idempotency-Key"]
    assert Order.objects.filter(idempotency_key="k-2").count() == 1


def test_keys_are_per_account(world, buyer_api, other_api):
    mine = buyer_api.post(URL, order_body(world), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    theirs = other_api.post(URL, order_body(world), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["number"] != theirs.json()["number"]


def test_without_a_key_each_request_places_an_order(world, buyer_api):
    first = buyer_api.post(URL, order_body(world), format="json")
    second = buyer_api.post(URL, order_body(world), format="json")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["number"] != second.json()["number"]


@pytest.mark.parametrize("key", ["x" * 500, "bad\nkey"])
def test_an_unusable_key_is_400_naming_the_header(world, buyer_api, key):
    response = buyer_api.post(URL, order_body(world), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "idempotency_key" in response.json()["errors"]
    assert not Order.objects.filter(po_number="PO-IDEM").exists()


@concurrent
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_request_with_a_key_in_flight_is_409(world, buyer, monkeypatch):
    # given the first request paused inside order_place, holding the key's lock
    real_start = locks.placement_start
    holding, release = threading.Event(), threading.Event()
    test_thread = threading.current_thread()

    def pausing_start(**kwargs):
        start = real_start(**kwargs)
        if threading.current_thread() is not test_thread and start.key_taken:
            holding.set()
            release.wait(timeout=30)
        return start

    monkeypatch.setattr(locks, "placement_start", pausing_start)
    results = {}

    def first_request():
        try:
            api = api_client_for(buyer)
            results["first"] = api.post(
                URL, order_body(world), format="json", HTTP_IDEMPOTENCY_KEY="in-flight"
            )
        finally:
            connection.close()

    thread = threading.Thread(target=first_request)
    thread.start()
    try:
        assert holding.wait(timeout=30), "the first request never reached the key lock"
        # when the same request arrives while the first is in flight
        second = api_client_for(buyer).post(
            URL, order_body(world), format="json", HTTP_IDEMPOTENCY_KEY="in-flight"
        )
    finally:
        release.set()
        thread.join(timeout=60)
    # then the second is told to retry later, and the first completes alone
    assert second.status_code == 409
    assert second.json() == {
        "detail": "A request with this idempotency key is in progress.",
        "errors": {},
    }
    assert results["first"].status_code == 201
    assert Order.objects.filter(idempotency_key="in-flight").count() == 1
    # and a retry after the first finished gets the same order
    retry = api_client_for(buyer).post(
        URL, order_body(world), format="json", HTTP_IDEMPOTENCY_KEY="in-flight"
    )
    assert retry.status_code == 200
    assert retry.json()["number"] == results["first"].json()["number"]

"""Every error path answers in the one shape {"detail", "errors": {field: [..]}}, names
the field or line, and changes nothing."""

import pytest
from rest_framework.throttling import UserRateThrottle

from inventory.models import StockLevel
from orders.models import Order

V1 = "/api/v1"


def error_shape(response):
    data = response.json()
    assert set(data) == {"detail", "errors"}, data
    assert isinstance(data["detail"], str)
    assert data["detail"]
    assert all(
        isinstance(messages, list) and all(isinstance(m, str) for m in messages)
        for messages in data["errors"].values()
    )
    return data


@pytest.fixture
def unchanged(world):
    """Asserts, after the test, that no order was placed and no stock moved."""
    orders = Order.objects.count()
    allocated = list(StockLevel.objects.order_by("pk").values_list("allocated", flat=True))
    yield
    assert Order.objects.count() == orders
    assert list(StockLevel.objects.order_by("pk").values_list("allocated", flat=True)) == (
        allocated
    )


def order_body(world, **extra):
    return {"po_number": "PO-E", "lines": [{"sku": world.sku.code, "quantity": 6}], **extra}


@pytest.mark.usefixtures("unchanged")
def test_400_names_the_nested_line_and_field(world, buyer_api):
    body = {
        "lines": [
            {"sku": world.sku.code, "quantity": 6},
            {"sku": world.sku.code, "quantity": 6},
            {"sku": world.sku.code, "quantity": "six"},
        ]
    }
    response = buyer_api.post(f"{V1}/orders/", body, format="json")
    assert response.status_code == 400
    data = error_shape(response)
    assert data["detail"] == "Invalid input."
    assert list(data["errors"]) == ["lines[2].quantity"]


@pytest.mark.usefixtures("unchanged")
def test_400_from_the_service_names_the_line(world, buyer_api):
    body = {"lines": [{"sku": world.sku.code, "quantity": 6}, {"sku": "NOPE", "quantity": 6}]}
    response = buyer_api.post(f"{V1}/orders/", body, format="json")
    assert response.status_code == 400
    assert "lines[1].sku" in error_shape(response)["errors"]


@pytest.mark.usefixtures("unchanged")
def test_400_for_a_list_body_names_the_row(world, integration_api):
    response = integration_api.post(
        f"{V1}/stock/sync/", [{"sku": world.sku.code, "on_hand": 1}, {"sku": 5}], format="json"
    )
    assert response.status_code == 400
    assert any(key.startswith("[1]") for key in error_shape(response)["errors"])


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "raw", ['{"lines": [', "not json", '{"lines": NaN}', "[1, 2", '{"a": 1}{"b": 2}']
)
def test_malformed_json_is_400(world, buyer_api, raw):
    response = buyer_api.generic("POST", f"{V1}/orders/", raw, content_type="application/json")
    assert response.status_code == 400
    assert error_shape(response)["detail"]


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"po_number": "PO\u0000", "lines": []}, "po_number"),
        ({"po_number": "PO", "lines": [{"sku": "\ud800", "quantity": 1}]}, "lines[0].sku"),
    ],
)
def test_text_the_database_cannot_store_is_400_naming_the_field(world, buyer_api, body, field):
    import json

    raw = json.dumps(body)  # \u0000 and a lone surrogate, as JSON escapes
    response = buyer_api.generic("POST", f"{V1}/orders/", raw, content_type="application/json")
    assert response.status_code == 400
    assert field in error_shape(response)["errors"]


@pytest.mark.parametrize(
    "path", ["orders/%00/", "invoices/%00/pdf/", "skus/%00/availability/", "orders/%00/cancel/"]
)
def test_nul_in_a_path_parameter_is_400_not_500(world, buyer_api, path):
    method = "post" if path.endswith("cancel/") else "get"
    response = getattr(buyer_api, method)(f"{V1}/{path}", {}, format="json")
    assert response.status_code == 400
    assert "path" in error_shape(response)["errors"]


def test_401_without_credentials_and_with_a_bad_token(world):
    from rest_framework.test import APIClient

    anonymous = APIClient().get(f"{V1}/orders/")
    bad = APIClient().get(f"{V1}/orders/", HTTP_AUTHORIZATION="Token not-a-real-key")
    assert (anonymous.status_code, bad.status_code) == (401, 401)
    error_shape(anonymous)
    error_shape(bad)


@pytest.mark.usefixtures("unchanged")
def test_403_for_a_viewer_placing_an_order(world, account):
    from orders.models import MembershipRole
    from tests.conftest import api_client_for
    from tests.factories import MembershipFactory, UserFactory

    viewer = MembershipFactory(account=account, user=UserFactory(), role=MembershipRole.VIEWER)
    response = api_client_for(viewer.user).post(f"{V1}/orders/", order_body(world), format="json")
    assert response.status_code == 403
    error_shape(response)


def test_404_for_an_unknown_object_and_an_unknown_path(world, buyer_api):
    order = buyer_api.get(f"{V1}/orders/SO-NOPE/")
    path = buyer_api.get(f"{V1}/no-such-thing/")
    outside = buyer_api.get("/api/nothing-here")
    assert (order.status_code, path.status_code, outside.status_code) == (404, 404, 404)
    assert path.json() == {"detail": "No such API endpoint.", "errors": {}}
    error_shape(order)
    error_shape(outside)


def test_404_for_a_page_past_the_end(world, buyer_api):
    response = buyer_api.get(f"{V1}/orders/", {"page": 99})
    assert response.status_code == 404
    error_shape(response)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "orders/"),
        ("put", "orders/{number}/"),
        ("patch", "orders/{number}/"),
        ("get", "orders/{number}/cancel/"),
        ("options", "orders/"),
        ("post", "skus/"),
        ("delete", "invoices/"),
    ],
)
def test_405_in_the_error_shape_with_allow(world, buyer_api, method, path):
    url = f"{V1}/" + path.format(number=world.mine.order.number)
    response = getattr(buyer_api, method)(url)
    assert response.status_code == 405
    assert response["Allow"]
    error_shape(response)


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data"]
)
def test_415_for_a_body_that_is_not_json(world, buyer_api, content_type):
    response = buyer_api.generic(
        "POST", f"{V1}/orders/", "po_number=PO&lines=1", content_type=content_type
    )
    assert response.status_code == 415
    error_shape(response)


def test_406_when_the_client_accepts_no_json(world, buyer_api):
    response = buyer_api.get(f"{V1}/orders/", HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    error_shape(response)


def test_409_and_422_for_idempotency_keys(world, buyer_api, monkeypatch):
    from orders import locks

    first = buyer_api.post(
        f"{V1}/orders/", order_body(world), format="json", HTTP_IDEMPOTENCY_KEY="e"
    )
    assert first.status_code == 201
    other = buyer_api.post(
        f"{V1}/orders/",
        order_body(world, po_number="PO-OTHER"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="e",
    )
    assert other.status_code == 422
    assert "Idempotency-Key" in error_shape(other)["errors"]
    monkeypatch.setattr(
        locks, "placement_start", lambda **kwargs: locks.PlacementStart(False, None, None)
    )
    busy = buyer_api.post(
        f"{V1}/orders/", order_body(world), format="json", HTTP_IDEMPOTENCY_KEY="busy"
    )
    assert busy.status_code == 409
    error_shape(busy)


def test_429_with_retry_after_per_user(world, buyer_api, other_api, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute"})
    statuses = [buyer_api.get(f"{V1}/skus/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    throttled = buyer_api.get(f"{V1}/skus/")
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    error_shape(throttled)
    # another user has their own allowance
    assert other_api.get(f"{V1}/skus/").status_code == 200


@pytest.mark.usefixtures("unchanged")
def test_an_unexpected_error_answers_json_500_and_is_logged(world, buyer_api, monkeypatch, caplog):
    def fail(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("orders.api.ordering.order_place", fail)
    with caplog.at_level("ERROR", logger="restapi"):
        response = buyer_api.post(f"{V1}/orders/", order_body(world), format="json")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    data = error_shape(response)
    assert "Idempotency-Key" in data["detail"]
    assert "disk on fire" not in response.content.decode()
    [record] = [record for record in caplog.records if record.name == "restapi"]
    assert record.exc_info[1].args == ("disk on fire",)
    assert "POST /api/v1/orders/" in record.getMessage()

"""Bodies sent to hurt: oversize is a 413, nesting past API_MAX_JSON_DEPTH a 400, both in
the API's error shape, and neither reaches a view (nor, for the size, authentication)."""

import json

import pytest
from rest_framework.test import APIClient

from orders.api.ordering import OrderListCreateView
from restapi.middleware import DEFAULT_MAX_JSON_DEPTH, json_too_deep
from tests.api.test_errors import error_shape

ORDERS = "/api/v1/orders/"


@pytest.fixture
def no_view(monkeypatch):
    def reached(*args, **kwargs):
        raise AssertionError("the view was reached")

    monkeypatch.setattr(OrderListCreateView, "post", reached)


def test_a_5_mb_body_is_a_413_before_any_view(world, buyer_api, no_view):
    body = json.dumps({"po_number": "x" * 5_000_000, "lines": []})

    response = buyer_api.post(ORDERS, body, content_type="application/json")

    assert response.status_code == 413
    data = error_shape(response)
    assert "5,000," in data["detail"]


def test_the_size_is_refused_before_authentication(db, no_view):
    response = APIClient().post(ORDERS, "[" * 3_000_000, content_type="application/json")
    assert response.status_code == 413


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_json_nested_thousands_deep_is_a_400_before_any_view(world, buyer_api, no_view, opener):
    closer = "]" if opener == "[" else "}"
    body = opener * 5000 + "1" + closer * 5000

    response = buyer_api.post(ORDERS, body, content_type="application/json")

    assert response.status_code == 400
    assert error_shape(response)["errors"] == {
        "non_field_errors": [
            f"JSON may nest at most {DEFAULT_MAX_JSON_DEPTH} arrays or objects deep."
        ]
    }


def test_a_deep_body_is_refused_on_every_method_with_a_body(world, buyer_api):
    body = "[" * 100 + "]" * 100
    for method in ("PUT", "PATCH", "DELETE"):
        response = buyer_api.generic(method, ORDERS, body, content_type="application/json")
        assert response.status_code == 400, method


def test_brackets_inside_strings_do_not_count(world, buyer_api):
    body = json.dumps({"po_number": "[{" * 200 + '"' + "}]" * 200, "lines": []})

    response = buyer_api.post(ORDERS, body, content_type="application/json")

    # the view's own validation answers: the body was let through
    assert response.status_code == 400
    assert "lines" in response.json()["errors"]


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        (b"[" * 32 + b"]" * 32, False),
        (b"[" * 33 + b"]" * 33, True),
        (b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', False),
        (b'["\\\\", [[]]]', False),
        (b'"unterminated [[[[', False),
    ],
)
def test_json_too_deep_counts_only_structure(text, deep):
    assert json_too_deep(text, 32) is deep

"""Unknown fields in a write are a 400 that names them, on every write endpoint, nested
ones included (restapi.serializers.StrictFieldsMixin), and nothing changes."""

import pytest

from orders.models import Order
from tests.api.routes import v1_routes
from tests.api.test_security import STAFF_ONLY

WRITE_METHODS = ("post", "put", "patch", "delete")
BOGUS = "zz_unknown"


def _writes():
    return sorted(
        (method.upper(), route.name)
        for route in v1_routes()
        for method in WRITE_METHODS
        if hasattr(route.view_class, method)
    )


def _path(route, world):
    path = "/api/v1/" + route.pattern
    return (
        path.replace("<str:number>", world.mine.order.number)
        .replace("<int:line_id>", str(world.mine.backordered_line.pk))
        .replace("<str:reference>", world.run_reference)
        .replace("<int:pk>", str(world.mine.webhook.pk))
    )


def _body(name, world):
    """Each object of the body carries one unknown key: the top level and, where the
    endpoint reads lines, a line (elsewhere "lines" is itself unknown)."""
    if name == "api:stock-sync":
        return [{"sku": world.sku.code, "on_hand": 400, BOGUS: 1}]
    return {BOGUS: 1, "lines": [{BOGUS: 1}]}


def test_the_walk_covers_every_write_endpoint():
    names = {name for _method, name in _writes()}
    assert {"api:orders", "api:order-cancel", "api:stock-sync", "api:shipments"} <= names


@pytest.mark.parametrize(("method", "name"), _writes())
def test_an_unknown_field_is_a_400_naming_it(world, buyer_api, integration_api, method, name):
    # given
    route = next(route for route in v1_routes() if route.name == name)
    api = integration_api if (method, name) in STAFF_ONLY else buyer_api
    body = _body(name, world)
    orders = Order.objects.count()
    # when
    response = getattr(api, method.lower())(_path(route, world), body, format="json")
    # then
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    expected = {f"[0].{BOGUS}"} if name == "api:stock-sync" else {BOGUS, f"lines[0].{BOGUS}"}
    if "lines" in errors:  # an endpoint that reads no lines
        expected = {BOGUS, "lines"}
    assert expected <= set(errors), errors
    assert all(errors[field][0].startswith("Unknown field.") for field in expected)
    assert Order.objects.count() == orders


def test_a_misspelt_backorders_policy_places_nothing(world, buyer_api):
    body = {
        "po_number": "PO-TYPO",
        "backorder": "none",
        "lines": [{"sku": world.sku.code, "quantity": 6}],
    }

    response = buyer_api.post("/api/v1/orders/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"]["backorder"] == [
        "Unknown field. This accepts: account, backorders, cancel_date, lines, po_number, "
        "requested_ship_date, ship_to."
    ]
    assert not Order.objects.filter(po_number="PO-TYPO").exists()


def test_unknown_fields_are_reported_with_the_other_errors(world, buyer_api):
    body = {"backorder": "none", "lines": [{"sku": world.sku.code, "quantity": "six"}]}

    response = buyer_api.post("/api/v1/orders/", body, format="json")

    assert set(response.json()["errors"]) == {"backorder", "lines[0].quantity"}

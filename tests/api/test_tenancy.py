"""Tenant isolation: every route under /api/v1/ is walked with another account's ids.

Routes come from the URL resolver, so a new route is covered the day it is added; a route
with a path parameter this file does not know how to fill fails the walk."""

from orders.models import Claim, Order, OrderLine
from tests.api.routes import v1_routes
from tests.conftest import api_client_for
from tests.factories import RepFactory

METHODS = ["get", "post", "put", "patch", "delete", "options", "head"]

# How to fill each route's parameters with the *other* account's data.
OTHER_ACCOUNT_IDS = {
    ("api:order-detail", "number"): lambda world: world.theirs.order.number,
    ("api:order-cancel", "number"): lambda world: world.theirs.order.number,
    ("api:order-lines", "number"): lambda world: world.theirs.order.number,
    ("api:invoice-pdf", "number"): lambda world: world.theirs.invoice.number,
    ("api:credit-memo-pdf", "number"): lambda world: world.theirs.credit_memo.number,
    ("api:backorder-decision", "line_id"): lambda world: world.theirs.backordered_line.pk,
    ("api:claim-detail", "number"): lambda world: world.theirs.claim.number,
    ("api:claim-photo", "number"): lambda world: world.theirs.claim.number,
    ("api:claim-photo", "photo_id"): lambda world: world.theirs.claim.photos.get().pk,
    ("api:webhook-detail", "pk"): lambda world: world.theirs.webhook.pk,
}
# Parameters that name no account's data: the shared catalogue, and the brand's inbound
# runs (changed only by staff). Each says what a retailer gets instead.
NOT_ACCOUNT_DATA = {
    ("api:sku-availability", "sku"): "catalogue: every retailer sees every active SKU",
    ("api:inbound-eta", "reference"): "staff only: a retailer gets 403 whatever the run",
    ("api:inbound-receive", "reference"): "staff only: a retailer gets 403 whatever the run",
    ("api:inbound-cancel", "reference"): "staff only: a retailer gets 403 whatever the run",
    ("api:return-receive", "number"): "staff only: a retailer gets 403 whatever the return",
}
NONEXISTENT = {
    "number": "SO-999999999",
    "line_id": 999999999,
    "photo_id": 999999999,
    "pk": 999999999,
}


def _url(route, values):
    path = route.pattern
    for param in route.params:
        for kind in ("str", "int"):
            path = path.replace(f"<{kind}:{param}>", str(values[param]))
    assert "<" not in path, path
    return f"/api/v1/{path}"


def _served_methods(view_class):
    return {
        method
        for method in METHODS
        if method != "options"
        and (hasattr(view_class, method) or (method == "head" and hasattr(view_class, "get")))
    }


def test_every_route_parameter_is_known():
    routes = v1_routes()
    assert routes
    for route in routes:
        for param in route.params:
            key = (route.name, param)
            assert key in OTHER_ACCOUNT_IDS or key in NOT_ACCOUNT_DATA, (
                f"{route.name} has a path parameter {param!r} this walk cannot fill: "
                "add it to OTHER_ACCOUNT_IDS (or, if it names no account's data, "
                "to NOT_ACCOUNT_DATA)."
            )


def test_another_accounts_ids_are_404_on_every_method_that_route_serves(world, buyer):
    api = api_client_for(buyer)
    walked = 0
    for route in v1_routes():
        keys = [(route.name, param) for param in route.params]
        if not keys or any(key in NOT_ACCOUNT_DATA for key in keys):
            continue
        theirs = _url(
            route, {param: OTHER_ACCOUNT_IDS[(route.name, param)](world) for param in route.params}
        )
        missing = _url(route, {param: NONEXISTENT[param] for param in route.params})
        served = _served_methods(route.view_class)
        assert served, route.name
        for method in METHODS:
            response = getattr(api, method)(theirs, {}, format="json")
            nothing = getattr(api, method)(missing, {}, format="json")
            # then the other account's object looks exactly like one that does not exist
            assert response.status_code == nothing.status_code, (route.name, method)
            if method != "head":
                assert response.json() == nothing.json(), (route.name, method)
            if method in served:
                assert response.status_code == 404, (route.name, method, response.content)
            else:
                assert response.status_code == 405, (route.name, method)
            walked += 1
    assert walked == len({name for name, _ in OTHER_ACCOUNT_IDS}) * len(METHODS)


def test_another_accounts_ids_change_nothing(world, buyer):
    # given the other account's order as it stands
    api = api_client_for(buyer)
    before = list(OrderLine.objects.filter(order=world.theirs.order).values())
    # when every write route is tried with their ids
    api.post(f"/api/v1/orders/{world.theirs.order.number}/cancel/", {}, format="json")
    api.post(
        f"/api/v1/backorders/{world.theirs.backordered_line.pk}/decision/",
        {"action": "cancel"},
        format="json",
    )
    claims_before = Claim.objects.count()
    response = api.post(
        "/api/v1/claims/",
        {
            "shipment": world.theirs.shipment.number,
            "reason": "damaged",
            "lines": [{"sku": world.sku.code, "quantity": 1}],
        },
        format="json",
    )
    # then nothing of theirs moved, and their shipment looks like no shipment at all
    assert list(OrderLine.objects.filter(order=world.theirs.order).values()) == before
    assert response.status_code == 400
    assert response.json()["errors"] == {"shipment": ["No such shipment on your accounts."]}
    assert Claim.objects.count() == claims_before


def test_another_accounts_line_inside_my_own_order_is_refused(world, buyer):
    api = api_client_for(buyer)
    response = api.post(
        f"/api/v1/orders/{world.mine.order.number}/cancel/",
        {"lines": [{"id": world.theirs.backordered_line.pk}]},
        format="json",
    )
    assert response.status_code in (400, 404)
    if response.status_code == 400:
        assert "lines[0].id" in response.json()["errors"]
    world.theirs.backordered_line.refresh_from_db()
    assert world.theirs.backordered_line.cancelled == 0


LISTS = {
    "api:orders": lambda tenant: tenant.order.number,
    "api:shipments": lambda tenant: tenant.shipment.number,
    "api:invoices": lambda tenant: tenant.invoice.number,
    "api:credit-memos": lambda tenant: tenant.credit_memo.number,
    "api:claims": lambda tenant: tenant.claim.number,
    "api:accounts": lambda tenant: tenant.account.number,
    "api:ship-tos": lambda tenant: tenant.account.ship_tos.get().pk,
    "api:webhooks": lambda tenant: tenant.webhook.pk,
    "api:backorders": lambda tenant: tenant.backordered_line.pk,
}
# The key each list names its items by.
LIST_KEYS = {"api:ship-tos": "id", "api:webhooks": "id", "api:backorders": "id"}


def test_every_list_is_scoped_to_the_callers_accounts(world, buyer):
    api = api_client_for(buyer)
    listed = {route.name for route in v1_routes() if not route.params}
    for name, number_of in LISTS.items():
        assert name in listed, name
        path = next(f"/api/v1/{r.pattern}" for r in v1_routes() if r.name == name)
        key = LIST_KEYS.get(name, "number")
        numbers = {item[key] for item in api.get(path).json()["results"]}
        assert number_of(world.mine) in numbers, name
        assert number_of(world.theirs) not in numbers, name


def test_lists_that_are_not_account_data_are_declared():
    account_lists = set(LISTS)
    # The catalogue (the line sheet too: at the caller's own account's prices, another
    # account's number refused, see tests/line_sheets), and the brand's inbound.
    shared = {"api:sku-list", "api:line-sheet", "api:inbound-list", "api:stock-sync"}
    unlisted = {r.name for r in v1_routes() if not r.params} - account_lists - shared
    assert not unlisted, f"New parameterless route(s) {unlisted}: add them to LISTS or shared."


def test_a_rep_sees_only_assigned_accounts(world):
    rep = RepFactory()
    world.mine.account.rep = rep
    world.mine.account.save(update_fields=["rep"])
    api = api_client_for(rep)
    numbers = {item["number"] for item in api.get("/api/v1/orders/").json()["results"]}
    assert world.mine.order.number in numbers
    assert world.theirs.order.number not in numbers
    assert api.get(f"/api/v1/orders/{world.theirs.order.number}/").status_code == 404


def test_a_user_with_no_account_sees_nothing(world):
    from tests.factories import UserFactory

    api = api_client_for(UserFactory())
    assert api.get("/api/v1/orders/").json()["results"] == []
    assert api.get("/api/v1/invoices/").json()["results"] == []
    assert api.get(f"/api/v1/orders/{world.mine.order.number}/").status_code == 404
    assert Order.objects.filter(number=world.mine.order.number).exists()

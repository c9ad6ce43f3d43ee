"""Locked-down defaults: who may call what, and how."""

import base64

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.views import APIView

from portal.roles import ROLE_PERMISSIONS, StaffRole, staff_groups_ensure
from restapi.authentication import TokenAuthentication
from restapi.permissions import HasStaffPermission
from tests.api.routes import api_view_classes, v1_routes
from tests.conftest import api_client_for
from tests.factories import StaffFactory, UserFactory

PUBLIC_DOCS = (SpectacularAPIView, SpectacularSwaggerView)

# Staff / integration endpoints: (method, route name) -> the permissions they need.
STAFF_ONLY = {
    ("POST", "api:stock-sync"): {"inventory.sync_stock"},
    ("POST", "api:inbound-list"): {"inventory.add_inboundrun", "inventory.change_inboundrun"},
    ("POST", "api:inbound-eta"): {"inventory.change_eta"},
    ("POST", "api:inbound-receive"): {"inventory.change_inboundrun"},
    ("POST", "api:inbound-cancel"): {"inventory.change_inboundrun"},
    ("POST", "api:shipments"): {"orders.add_shipment"},
    ("POST", "api:return-receive"): {"orders.change_returnauthorization"},
}


def test_every_api_view_authenticates_by_token_or_session_and_never_basic():
    classes = api_view_classes()
    assert len(classes) >= 15
    for view_class in classes:
        assert issubclass(view_class, APIView), view_class
        authenticators = list(view_class.authentication_classes)
        assert BasicAuthentication not in authenticators, view_class
        assert authenticators == [TokenAuthentication, SessionAuthentication], view_class


def test_every_api_view_requires_a_signed_in_user_except_the_schema_and_docs():
    for view_class in api_view_classes():
        permissions = list(view_class.permission_classes)
        if issubclass(view_class, PUBLIC_DOCS):
            assert permissions == [AllowAny], view_class
            continue
        assert AllowAny not in permissions, view_class
        assert IsAuthenticated in permissions, view_class


def test_staff_endpoints_require_the_staff_permission_for_their_method():
    by_name = {route.name: route for route in v1_routes()}
    for (method, name), perms in STAFF_ONLY.items():
        staff_checks = [
            permission
            for permission in by_name[name].view_class.permission_classes
            if issubclass(permission, HasStaffPermission)
        ]
        assert staff_checks, name
        (check,) = staff_checks
        assert set(check.perms) == perms, name
        assert check.methods is None or method in check.methods, name
    guarded = {
        route.name
        for route in v1_routes()
        if any(issubclass(p, HasStaffPermission) for p in route.view_class.permission_classes)
    }
    assert guarded == {name for _method, name in STAFF_ONLY}


@pytest.mark.parametrize(("method", "name"), sorted(STAFF_ONLY))
def test_a_retailer_token_cannot_call_a_staff_endpoint(world, buyer_api, method, name):
    response = buyer_api.generic(
        method, _staff_path(name, world), "{}", content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["detail"] == HasStaffPermission.message


def _staff_path(name, world):
    route = next(route for route in v1_routes() if route.name == name)
    return "/api/v1/" + route.pattern.replace("<str:reference>", world.run_reference).replace(
        "<str:number>", world.mine.return_authorization.number
    )


@pytest.mark.parametrize(("method", "name"), sorted(STAFF_ONLY))
def test_the_integration_role_without_is_staff_reaches_every_staff_endpoint(
    world, integration_user, method, name
):
    # given: the integration user as seed_demo makes it: the role, no admin, no superuser
    assert not integration_user.is_staff
    assert not integration_user.is_superuser
    # when: an empty body (a receipt of everything; elsewhere a validation error)
    response = api_client_for(integration_user).generic(
        method, _staff_path(name, world), "{}", content_type="application/json"
    )
    # then: past the permission check (each feed's success is in test_contract.py)
    expected = {"api:inbound-receive": 201, "api:return-receive": 200}.get(name, 400)
    assert response.status_code == expected, response.json()


@pytest.mark.parametrize("is_staff", [False, True], ids=["plain-user", "staff-without-role"])
@pytest.mark.parametrize(("method", "name"), sorted(STAFF_ONLY))
def test_a_user_without_the_role_is_refused_every_staff_endpoint(world, method, name, is_staff):
    user = UserFactory(is_staff=is_staff)
    response = api_client_for(user).generic(
        method, _staff_path(name, world), "{}", content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["detail"] == HasStaffPermission.message


def test_the_integration_role_holds_exactly_the_feeds_permissions():
    feeds = set().union(*STAFF_ONLY.values())
    # and the ERP's webhooks: every account's events (orders.webhooks)
    reads = {"inventory.view_inboundrun", "webhooks.receive_all_accounts"}
    assert set(ROLE_PERMISSIONS[StaffRole.INTEGRATION]) == feeds | reads


def test_a_planner_role_is_served_and_the_integration_user_cannot_open_the_admin(
    world, warehouse, integration_user, client
):
    staff_groups_ensure()
    planner = StaffFactory()
    planner.groups.add(Group.objects.get(name=StaffRole.PLANNER.value))
    served = api_client_for(planner).post(
        "/api/v1/stock/sync/", [{"sku": world.sku.code, "on_hand": 500}], format="json"
    )
    assert served.status_code == 200, served.json()
    client.force_login(integration_user)
    assert client.get(reverse("admin:index")).status_code == 302


def test_basic_auth_with_a_correct_password_is_refused(world, buyer):
    from rest_framework.test import APIClient

    from tests.factories import TEST_PASSWORD

    credentials = base64.b64encode(f"{buyer.email}:{TEST_PASSWORD}".encode()).decode()
    response = APIClient().get("/api/v1/orders/", HTTP_AUTHORIZATION=f"Basic {credentials}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_no_credentials_is_401_with_the_token_challenge(db):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/orders/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "errors": {},
    }


def test_session_post_without_csrf_is_403_and_places_nothing(world, buyer):
    from django.test import Client

    from orders.models import Order

    client = Client(enforce_csrf_checks=True)
    client.force_login(buyer)
    before = Order.objects.count()
    body = {"po_number": "PO-CSRF", "lines": [{"sku": world.sku.code, "quantity": 6}]}
    response = client.post("/api/v1/orders/", body, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF Failed")
    assert Order.objects.count() == before


def test_session_post_with_csrf_is_served(world, buyer):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(buyer)
    client.get("/")  # any page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    body = {"po_number": "PO-CSRF", "lines": [{"sku": world.sku.code, "quantity": 6}]}
    response = client.post(
        "/api/v1/orders/", body, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 201, response.json()


def test_session_get_needs_no_csrf(world, buyer):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(buyer)
    assert client.get("/api/v1/orders/").status_code == 200


def test_the_token_is_stored_only_as_a_digest(buyer):
    from knox.models import AuthToken

    _, key = AuthToken.objects.create(user=buyer)
    row = AuthToken.objects.get(user=buyer)
    assert key not in {row.digest, row.token_key}
    assert not any(key in str(value) for value in vars(row).values())

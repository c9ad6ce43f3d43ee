"""POST/GET/DELETE /api/v1/webhooks/: the secret once, public URLs only, strict fields,
one account's endpoints for its buyers, every account's for the ERP by permission."""

import pytest
from django.contrib.auth.models import Group

from orders.models import MembershipRole
from orders.webhooks.models import Delivery, DeliveryStatus, Endpoint
from portal.roles import StaffRole, staff_groups_ensure
from tests.conftest import api_client_for
from tests.factories import MembershipFactory, UserFactory
from tests.webhooks.conftest import resolving

URL = "https://erp.example.com/hooks"


@pytest.fixture(autouse=True)
def _public_dns(monkeypatch):
    resolving(monkeypatch, {"erp.example.com": ["93.184.216.34"]})


@pytest.fixture
def integration_api(db):
    staff_groups_ensure()
    user = UserFactory()
    user.groups.add(Group.objects.get(name=StaffRole.INTEGRATION.value))
    return api_client_for(user)


def _subscribe(api, **body):
    return api.post(
        "/api/v1/webhooks/",
        {"url": URL, "events": ["order.placed", "shipment.created"], **body},
        format="json",
    )


def test_a_buyer_subscribes_and_sees_the_secret_once(buyer_api, account):
    # when
    response = _subscribe(buyer_api)
    # then
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert created["account"] == account.number
    assert created["events"] == ["order.placed", "shipment.created"]
    endpoint = Endpoint.objects.get(pk=created["id"])
    assert endpoint.account == account
    assert endpoint.secret == created["secret"]
    listed = buyer_api.get("/api/v1/webhooks/").json()["results"]
    assert [item["id"] for item in listed] == [created["id"]]
    detail = buyer_api.get(f"/api/v1/webhooks/{created['id']}/").json()
    assert "secret" not in detail
    assert "secret" not in listed[0]
    assert detail["url"] == URL


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hooks",
        "http://10.0.0.5/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hooks",
        "https://intranet.example.com/hooks",
    ],
)
def test_a_private_target_is_a_400_naming_url(buyer_api, monkeypatch, url):
    resolving(monkeypatch, {"intranet.example.com": ["192.168.3.4"]})
    response = _subscribe(buyer_api, url=url)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["url"]
    assert not Endpoint.objects.exists()


def test_unknown_fields_and_events_are_400s_naming_them(buyer_api):
    response = _subscribe(buyer_api, secret="mine", active=True)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"secret", "active"}
    response = _subscribe(buyer_api, events=["order.placed", "order.shipped"])
    assert response.status_code == 400
    assert "events[1]" in response.json()["errors"]
    response = _subscribe(buyer_api, events=[])
    assert set(response.json()["errors"]) == {"events"}
    assert not Endpoint.objects.exists()


def test_a_viewer_may_not_subscribe(account):
    viewer = MembershipFactory(account=account, user=UserFactory(), role=MembershipRole.VIEWER)
    response = _subscribe(api_client_for(viewer.user))
    assert response.status_code == 403
    assert not Endpoint.objects.exists()


def test_another_accounts_webhook_is_404_and_stays(buyer_api, other_api):
    theirs = _subscribe(other_api).json()["id"]
    for method in ("get", "delete"):
        response = getattr(buyer_api, method)(f"/api/v1/webhooks/{theirs}/")
        missing = getattr(buyer_api, method)("/api/v1/webhooks/999999999/")
        assert response.status_code == missing.status_code == 404
        assert response.json() == missing.json()
    assert buyer_api.get("/api/v1/webhooks/").json()["results"] == []
    assert _subscribe(buyer_api, account="NOT-MINE").status_code == 400
    assert Endpoint.objects.get(pk=theirs).deleted_at is None


def test_delete_unsubscribes_and_cancels_what_was_waiting(buyer_api):
    endpoint_id = _subscribe(buyer_api).json()["id"]
    endpoint = Endpoint.objects.get(pk=endpoint_id)
    waiting = Delivery.objects.create(
        key="k:1",
        endpoint=endpoint,
        event_id="00000000-0000-0000-0000-000000000001",
        event="order.placed",
        payload={},
    )
    assert buyer_api.delete(f"/api/v1/webhooks/{endpoint_id}/").status_code == 204
    assert buyer_api.get(f"/api/v1/webhooks/{endpoint_id}/").status_code == 404
    assert buyer_api.get("/api/v1/webhooks/").json()["results"] == []
    waiting.refresh_from_db()
    assert waiting.status == DeliveryStatus.CANCELLED


def test_the_erp_subscribes_to_every_account_with_its_permission(integration_api, buyer_api):
    response = _subscribe(integration_api)
    assert response.status_code == 201, response.content
    assert response.json()["account"] is None
    assert Endpoint.objects.get().account is None
    # a retailer neither sees it nor can make one
    assert buyer_api.get("/api/v1/webhooks/").json()["results"] == []
    assert buyer_api.get(f"/api/v1/webhooks/{response.json()['id']}/").status_code == 404


def test_a_user_without_the_permission_and_no_account_cannot_subscribe_to_all(db):
    response = _subscribe(api_client_for(UserFactory()))
    assert response.status_code == 403
    assert not Endpoint.objects.exists()


def test_the_webhooks_are_in_the_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert {"/api/v1/webhooks/", "/api/v1/webhooks/{id}/"} <= set(schema["paths"])
    body = schema["components"]["schemas"]["WebhookInRequest"]
    assert set(body["properties"]) == {"url", "events", "account"}
    assert "secret" in schema["components"]["schemas"]["WebhookCreated"]["properties"]


def test_the_list_costs_the_same_queries_for_more_endpoints(
    buyer_api, buyer, account, django_assert_max_num_queries
):
    from orders.webhooks.services import endpoint_subscribe

    for _ in range(8):
        endpoint_subscribe(user=buyer, url=URL, events=["order.placed"], account=account)
    with django_assert_max_num_queries(6):
        response = buyer_api.get("/api/v1/webhooks/")
    assert len(response.json()["results"]) == 8


def test_an_account_has_at_most_ten_endpoints(buyer_api):
    for _ in range(10):
        assert _subscribe(buyer_api).status_code == 201
    response = _subscribe(buyer_api)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["account"]
    assert Endpoint.objects.count() == 10

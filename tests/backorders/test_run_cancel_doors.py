"""Cancelling a run through its doors: the staff API and the planners' admin action."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from inventory.models import InboundStatus
from notifications.models import Message
from tests.backorders.helpers import backordered_line, run_with
from tests.conftest import api_client_for
from tests.factories import SKUFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(account, buyer, warehouse):
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=5)
    return run, line


def test_api_cancels_a_run_and_its_backorders_for_staff_only(buyer_api, planner, waiting):
    run, line = waiting
    url = f"/api/v1/inbound/{run.reference}/cancel/"
    # a retailer may not
    assert buyer_api.post(url, {"reason": "Factory closed"}, format="json").status_code == 403
    staff = api_client_for(planner)
    # a reason is required, named in the error
    bad = staff.post(url, {"reason": ""}, format="json")
    assert bad.status_code == 400
    assert "reason" in bad.json()["errors"]
    # when staff cancel it
    response = staff.post(url, {"reason": "Factory closed"}, format="json")
    # then the run is cancelled, the waiting line too, and the retailer told
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "reference": run.reference,
        "status": InboundStatus.CANCELLED,
        "lines_repegged": 0,
        "lines_cancelled": 1,
    }
    line.refresh_from_db()
    assert (line.backordered, line.cancelled) == (0, 5)
    assert Message.objects.filter(kind="auto_cancel").exists()
    assert (
        staff.post("/api/v1/inbound/NOPE/cancel/", {"reason": "x"}, format="json").status_code
        == 404
    )


def test_admin_cancel_run_asks_for_a_reason_then_cancels(client, planner, waiting):
    from django.contrib.auth.models import Permission

    run, line = waiting
    planner.user_permissions.add(Permission.objects.get(codename="view_inboundrun"))
    client.force_login(planner)
    url = reverse("admin:inventory_inboundrun_changelist")
    base = {"action": "cancel_run", ACTION_CHECKBOX_NAME: [run.pk]}
    # the first post shows the form
    form = client.post(url, base)
    assert form.status_code == 200
    assert b"Cancel the run" in form.content
    # without a reason nothing happens
    client.post(url, {**base, "apply": "1", "reason": ""})
    run.refresh_from_db()
    assert run.status != InboundStatus.CANCELLED
    # with one, the run and its backorder are cancelled
    response = client.post(url, {**base, "apply": "1", "reason": "Factory closed"})
    assert response.status_code == 302
    run.refresh_from_db()
    line.refresh_from_db()
    assert run.status == InboundStatus.CANCELLED
    assert line.backordered == 0

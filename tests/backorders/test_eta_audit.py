"""An ETA change is in the audit trail, on the customer-service case when there is one."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils.timezone import now

from backorders.services import eta_change
from inventory.exceptions import InventoryInputError
from inventory.models import InboundRun
from orders.models import AuditEvent, CaseStatus
from orders.services import LineRequest, order_place
from portal.roles import StaffRole
from tests.factories import (
    CaseFactory,
    InboundLineFactory,
    InboundRunFactory,
    OrderFactory,
    StaffFactory,
    StockLevelFactory,
)
from tests.orders.test_service_desk_helpers import staff_with

pytestmark = pytest.mark.django_db


def test_an_eta_change_is_recorded_with_who_why_and_the_case(account):
    # given a planner working a case
    planner = StaffFactory()
    case = CaseFactory(account=account)
    run = InboundRunFactory()
    new_eta = run.eta + dt.timedelta(days=7)
    # when they move the run
    eta_change(run=run, new_eta=new_eta, reason="Port congestion", user=planner, case=case)
    # then the run moved, its history says why, and the audit trail has it on the case
    run.refresh_from_db()
    assert run.eta == new_eta
    assert run.eta_changes.get().reason == "Port congestion"
    event = AuditEvent.objects.get(action="eta.changed")
    assert event.content_type == ContentType.objects.get_for_model(InboundRun)
    assert event.object_id == str(run.pk)
    assert event.actor == planner
    assert event.case == case
    assert event.changes["eta"] == [
        (new_eta - dt.timedelta(days=7)).isoformat(),
        new_eta.isoformat(),
    ]


def test_an_eta_change_on_a_resolved_case_changes_nothing(account):
    case = CaseFactory(
        account=account, status=CaseStatus.RESOLVED, resolution="Told them.", resolved_at=now()
    )
    run = InboundRunFactory()
    old_eta = run.eta

    with pytest.raises(InventoryInputError) as error:
        eta_change(
            run=run, new_eta=old_eta + dt.timedelta(days=3), reason="x", user=None, case=case
        )

    assert "case" in error.value.message_dict
    run.refresh_from_db()
    assert run.eta == old_eta
    assert not AuditEvent.objects.exists()


@pytest.fixture
def backordered_order(account, buyer, warehouse):
    short = StockLevelFactory(warehouse=warehouse, on_hand=0).sku
    inbound = InboundLineFactory(sku=short, quantity=50, run__warehouse=warehouse)
    OrderFactory(account=account)  # a fill-in, not an opening order
    order = order_place(account=account, user=buyer, lines=[LineRequest(short.code, 8)]).order
    return order, inbound.run


def _order_action(client, order, run, new_eta):
    return client.post(
        reverse("admin:orders_order_service", args=[order.pk, "eta"]),
        {"run": run.pk, "eta": new_eta.isoformat(), "reason": "Factory closed a week"},
    )


def test_the_order_page_changes_an_eta_through_the_engine(client, backordered_order):
    # given an agent on the order page of an order waiting for a run
    order, run = backordered_order
    client.force_login(staff_with(StaffRole.CS_AGENT))
    new_eta = run.eta + dt.timedelta(days=7)
    # when they change the run's ETA there
    response = _order_action(client, order, run, new_eta)
    # then the run moved through eta_change (history and audit trail)
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.eta == new_eta
    assert run.eta_changes.get().reason == "Factory closed a week"
    assert AuditEvent.objects.filter(action="eta.changed", object_id=str(run.pk)).exists()


def test_the_order_page_refuses_an_eta_change_without_the_permission(client, backordered_order):
    order, run = backordered_order
    staff = StaffFactory()
    staff.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(staff)

    response = _order_action(client, order, run, run.eta + dt.timedelta(days=7))

    assert response.status_code == 403
    assert not run.eta_changes.exists()

"""An ETA change is in the audit trail, on the customer-service case when there is one."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils.timezone import now

from backorders.services import eta_change
from inventory.exceptions import InventoryInputError
from inventory.models import InboundRun
from orders.models import AuditEvent, CaseStatus
from tests.factories import CaseFactory, InboundRunFactory, StaffFactory

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

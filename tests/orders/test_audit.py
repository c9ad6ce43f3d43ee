"""The audit trail: every staff action and admin edit is recorded, and nobody edits it."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from inventory.models import EtaChange
from orders.audit import audit_record, changes_between, field_values
from orders.models import AuditEvent
from portal.roles import StaffRole
from tests.factories import InboundRunFactory, StockLevelFactory
from tests.orders.test_service_desk_helpers import open_case, staff_with


@pytest.fixture
def boss(db):
    return staff_with(None, is_superuser=True)


@pytest.fixture
def boss_client(client, boss):
    client.force_login(boss)
    return client


def test_audit_record_keeps_who_what_why_and_json_values(account, boss):
    event = audit_record(
        actor=boss,
        action="account.changed",
        obj=account,
        changes={
            "free_freight_threshold": [None, Decimal("400.00")],
            "on": [dt.date(2026, 1, 2), None],
        },
        reason="Agreed with the rep",
    )
    event.refresh_from_db()
    assert event.actor == boss
    assert event.content_type == ContentType.objects.get_for_model(account)
    assert event.object_id == str(account.pk)
    assert event.changes == {
        "free_freight_threshold": [None, "400.00"],
        "on": ["2026-01-02", None],
    }
    assert event.reason == "Agreed with the rep"
    assert event.created_at is not None


def test_changes_between_lists_only_what_moved(account):
    before = field_values(account)
    account.credit_status = "hold"
    assert changes_between(before, field_values(account)) == {"credit_status": ["good", "hold"]}


def _form_data(response):
    """The change form's current values, management forms included, as a browser posts."""
    data = {}
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None or value is False:
            continue
        data[name] = value.pk if hasattr(value, "pk") else value
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data |= {management.add_prefix(k): v for k, v in management.initial.items()}
        for inline_form in formset.formset.forms:
            if inline_form.instance.pk:
                data[inline_form.add_prefix("id")] = inline_form.instance.pk
            for name in inline_form.fields:
                value = inline_form.initial.get(name)
                if value not in (None, False):
                    data[inline_form.add_prefix(name)] = getattr(value, "pk", value)
    return data


def test_an_account_edit_in_the_admin_is_recorded_with_its_reason(boss_client, account, boss):
    url = reverse("admin:orders_account_change", args=[account.pk])
    data = _form_data(boss_client.get(url))
    data |= {"credit_status": "hold", "change_reason": "Two invoices 60 days late"}
    response = boss_client.post(url, data)
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="admin.changed", object_id=str(account.pk))
    assert event.actor == boss
    assert event.changes == {"credit_status": ["good", "hold"]}
    assert event.reason == "Two invoices 60 days late"
    # and it shows on the account's admin page
    page = boss_client.get(url).content.decode()
    assert "Two invoices 60 days late" in page


def test_an_admin_edit_without_a_reason_is_refused(boss_client, account):
    url = reverse("admin:orders_account_change", args=[account.pk])
    data = _form_data(boss_client.get(url)) | {"credit_status": "hold"}
    data.pop("change_reason", None)
    response = boss_client.post(url, data)
    assert response.status_code == 200
    assert "change_reason" in response.context["adminform"].form.errors
    account.refresh_from_db()
    assert account.credit_status == "good"
    assert not AuditEvent.objects.exists()


def test_a_stock_level_edit_is_recorded(boss_client, warehouse, boss):
    level = StockLevelFactory(warehouse=warehouse, on_hand=10, holdback=0)
    url = reverse("admin:inventory_stocklevel_change", args=[level.pk])
    data = _form_data(boss_client.get(url)) | {"holdback": "3", "change_reason": "Damaged pairs"}
    response = boss_client.post(url, data)
    assert response.status_code == 302
    event = AuditEvent.objects.get(object_id=str(level.pk), action="admin.changed")
    assert event.changes["holdback"] == [0, 3]
    assert event.content_type.model == "stocklevel"


def test_a_runs_admin_page_shows_its_eta_history(boss_client, boss):
    run = InboundRunFactory()
    EtaChange.objects.create(
        run=run,
        old_eta=run.eta,
        new_eta=run.eta + dt.timedelta(days=9),
        reason="Factory holiday",
        changed_by=boss,
    )
    page = boss_client.get(reverse("admin:inventory_inboundrun_change", args=[run.pk]))
    assert page.status_code == 200
    assert "Factory holiday" in page.content.decode()


def test_service_actions_are_recorded_with_their_case(account, boss):
    agent = staff_with(StaffRole.CS_AGENT)
    case = open_case(account=account, user=agent)
    event = AuditEvent.objects.get(action="case.opened")
    assert (event.actor, event.case, event.object_id) == (agent, case, str(case.pk))


def test_nobody_edits_or_deletes_the_audit_trail(boss_client, account, boss):
    # given a recorded event and a superuser
    event = audit_record(actor=boss, action="x", obj=account, changes={}, reason="why")
    change_url = reverse("admin:orders_auditevent_change", args=[event.pk])
    delete_url = reverse("admin:orders_auditevent_delete", args=[event.pk])
    # then the page is view-only, and posting a change or a delete is refused
    page = boss_client.get(change_url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    boss_client.post(change_url, {"reason": "rewritten"})
    assert boss_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert boss_client.get(reverse("admin:orders_auditevent_add")).status_code == 403
    event.refresh_from_db()
    assert event.reason == "why"
    assert AuditEvent.objects.filter(pk=event.pk).exists()

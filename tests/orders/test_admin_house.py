"""The admin as a house: pages extend each other by registration, so the admin is the
same whatever order the apps load in, and an app adds an order action with one call."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django import forms
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from inventory.models import InboundRun
from orders.admin import ActionDone, ActionForm, order_action_register
from orders.admin import order_actions as registry
from portal.roles import StaffRole
from tests.orders.test_service_desk_helpers import shipped_order, staff_with

ROOT = Path(__file__).resolve().parents[2]

FINGERPRINT = """
import json, django
django.setup()
from django.contrib import admin
from orders.admin.order_actions import _actions

def page(model_admin):
    extensions = getattr(model_admin, "get_extensions", list)()
    return {
        "class": type(model_admin).__qualname__,
        "inlines": [i.__qualname__ for i in model_admin.get_inlines(None, None)],
        "actions": [getattr(a, "__name__", a) for a in model_admin.actions or ()]
        + [f.__name__ for e in extensions for f in e.actions],
        "extensions": [type(e).__qualname__ for e in extensions],
    }

print(json.dumps({
    "pages": {m._meta.label: page(a) for m, a in sorted(
        admin.site._registry.items(), key=lambda item: item[0]._meta.label)},
    "order_actions": sorted((a.position, a.slug) for a in _actions.values()),
}, sort_keys=True))
"""


def _admin_fingerprint(settings_module):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module}
    done = subprocess.run(
        [sys.executable, "-c", FINGERPRINT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_admin_is_the_same_whatever_order_the_apps_load_in():
    # given the apps in their usual order, and in the opposite order
    usual = _admin_fingerprint("portal.settings")
    reversed_apps = _admin_fingerprint("tests.settings_apps_reversed")
    # then every page, its inlines, actions and extensions, and the order actions match
    assert reversed_apps == usual
    run_page = usual["pages"]["inventory.InboundRun"]
    assert run_page["class"] == "InboundRunAdmin"
    assert {"change_eta", "cancel_run"} <= set(run_page["actions"])
    assert run_page["extensions"] == ["AuditRecording", "RunEngineActions", "AuditTrail"]
    assert [slug for _, slug in usual["order_actions"]] == [
        "case",
        "credit-release",
        "credit",
        "return",
        "replacement",
        "cancel",
        "resend",
        "eta",
    ]


class _NoteForm(ActionForm):
    note = forms.CharField(max_length=50)


def _note_handler(form, request, order):
    return ActionDone(f"Noted on {order.number}: {form.cleaned_data['note']}")


@pytest.fixture
def note_action():
    order_action_register(
        slug="note",
        title="Write a note",
        form=_NoteForm,
        handler=_note_handler,
        permission="orders.add_case",
        position=5,
    )
    yield
    del registry._actions["note"]


def test_an_app_adds_an_order_action_with_one_registration(client, account, note_action):
    # given an action registered for people who may open cases
    agent = staff_with(StaffRole.CS_AGENT)
    planner = staff_with(StaffRole.PLANNER)
    order, _ = shipped_order(account=account)
    url = reverse("admin:orders_order_service", args=[order.pk, "note"])
    # when an agent opens the order and runs it
    client.force_login(agent)
    page = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    response = client.post(url, {"note": "called back"}, follow=True)
    # then it is listed first and runs through the order page's view
    assert [slug for slug, _ in page.context["service_actions"]][:2] == ["note", "case"]
    assert f"Noted on {order.number}: called back" in response.content.decode()
    # and a planner without the permission neither sees nor runs it
    client.force_login(planner)
    assert client.post(url, {"note": "x"}).status_code == 403


def test_a_second_action_under_a_taken_slug_is_refused(note_action):
    def other_handler(form, request, order):
        return ActionDone("")

    with pytest.raises(ImproperlyConfigured, match="note"):
        order_action_register(
            slug="note",
            title="Another",
            form=_NoteForm,
            handler=other_handler,
            permission="orders.add_case",
        )


def test_the_run_page_offers_each_engine_action_only_to_who_may_use_it(rf, db):
    # given the run page, a planner, an agent (ETA changes only) and staff without a role
    page = admin.site._registry[InboundRun]
    request = rf.get("/")
    offered = {}
    for role in (StaffRole.PLANNER, StaffRole.CS_AGENT, None):
        request.user = staff_with(role)
        offered[role] = {"change_eta", "cancel_run"} & set(page.get_actions(request))
    # then each sees the actions their permissions allow
    assert offered == {
        StaffRole.PLANNER: {"change_eta", "cancel_run"},
        StaffRole.CS_AGENT: {"change_eta"},
        None: set(),
    }

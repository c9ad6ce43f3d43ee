import datetime as dt

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from inventory.models import EtaChange, InboundLine, InboundRun, Season, StockLevel
from tests.factories import (
    InboundLineFactory,
    InboundRunFactory,
    SKUFactory,
    StockLevelFactory,
    StyleFactory,
)
from tests.inventory.conftest import staff_with

pytestmark = pytest.mark.django_db

RUNS = reverse("admin:inventory_inboundrun_changelist")
LEVELS = reverse("admin:inventory_stocklevel_changelist")


@pytest.fixture
def planner_client(client, planner):
    client.force_login(planner)
    return client


def test_stock_levels_list_shows_ats_sorted_in_sql(
    planner_client, warehouse, django_assert_max_num_queries
):
    levels = [
        StockLevelFactory(warehouse=warehouse, on_hand=on_hand, allocated=2, holdback=1)
        for on_hand in (9, 3, 40, 2)
    ]
    column = list(planner_client.get(LEVELS).context["cl"].list_display).index("ats")
    with django_assert_max_num_queries(12):
        response = planner_client.get(LEVELS, {"o": str(column)})  # by ATS, ascending
    assert response.status_code == 200
    shown = [level.pk for level in response.context["cl"].result_list]
    assert shown == [levels[3].pk, levels[1].pk, levels[0].pk, levels[2].pk]
    assert [level.ats_now for level in response.context["cl"].result_list] == [0, 0, 6, 37]


@pytest.mark.parametrize("term", ["style", "sku", "upc"])
def test_stock_levels_search_by_style_number_sku_or_upc(planner_client, warehouse, term):
    wanted = StockLevelFactory(
        warehouse=warehouse, sku=SKUFactory(style=StyleFactory(number="ZX-9"))
    )
    StockLevelFactory(warehouse=warehouse)
    query = {"style": "ZX-9", "sku": wanted.sku.code, "upc": wanted.sku.upc}[term]
    response = planner_client.get(LEVELS, {"q": query})
    assert [level.pk for level in response.context["cl"].result_list] == [wanted.pk]


def test_a_holdback_edit_changes_only_the_holdback(planner_client, warehouse):
    level = StockLevelFactory(warehouse=warehouse, on_hand=10, allocated=3)
    url = reverse("admin:inventory_stocklevel_change", args=[level.pk])
    form = planner_client.get(url)
    assert form.status_code == 200
    StockLevel.objects.filter(pk=level.pk).update(allocated=5)  # an order meanwhile
    response = planner_client.post(url, {"holdback": "2", "change_reason": "Fragile display"})
    assert response.status_code == 302
    level.refresh_from_db()
    assert (level.on_hand, level.allocated, level.holdback) == (10, 5, 2)

    response = planner_client.post(url, {"holdback": "-1", "change_reason": "Typo"})
    assert response.status_code == 200
    assert "holdback" in response.context["adminform"].form.errors
    level.refresh_from_db()
    assert level.holdback == 2


def test_the_eta_is_read_only_on_a_run(planner_client):
    run = InboundRunFactory()
    InboundLineFactory(run=run)
    response = planner_client.get(reverse("admin:inventory_inboundrun_change", args=[run.pk]))
    assert response.status_code == 200
    assert "eta" not in response.context["adminform"].form.fields
    assert "status" in response.context["adminform"].form.fields


def test_change_eta_action_asks_for_a_date_and_a_reason_then_records_it(planner_client, planner):
    run = InboundRunFactory()
    InboundLineFactory(run=run)
    new_eta = run.eta + dt.timedelta(days=10)
    base = {"action": "change_eta", ACTION_CHECKBOX_NAME: [run.pk]}

    # the action shows the intermediate form
    response = planner_client.post(RUNS, base)
    assert response.status_code == 200
    assert "reason" in response.context["form"].fields

    # no reason: the form says so and nothing changes
    response = planner_client.post(RUNS, {**base, "apply": "1", "new_eta": new_eta.isoformat()})
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert not EtaChange.objects.exists()

    # a past date: the service's error lands on the date field
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = planner_client.post(RUNS, {**base, "apply": "1", "new_eta": past, "reason": "x"})
    assert "new_eta" in response.context["form"].errors
    assert not EtaChange.objects.exists()

    # with both: recorded with who and why
    response = planner_client.post(
        RUNS, {**base, "apply": "1", "new_eta": new_eta.isoformat(), "reason": "Late leather"}
    )
    assert response.status_code == 302
    change = EtaChange.objects.get()
    assert (change.new_eta, change.reason, change.changed_by) == (new_eta, "Late leather", planner)
    run.refresh_from_db()
    assert run.eta == new_eta


def test_change_eta_action_needs_the_change_eta_permission(client):
    user = staff_with("view_inboundrun", "change_inboundrun")
    client.force_login(user)
    run = InboundRunFactory()
    response = client.post(
        RUNS,
        {
            "action": "change_eta",
            ACTION_CHECKBOX_NAME: [run.pk],
            "apply": "1",
            "new_eta": (run.eta + dt.timedelta(days=3)).isoformat(),
            "reason": "x",
        },
    )
    assert response.status_code in (200, 302)
    assert not EtaChange.objects.exists()


def test_a_planner_adds_a_run_with_its_lines_through_the_service(planner_client, warehouse):
    sku = SKUFactory()
    eta = timezone.localdate() + dt.timedelta(days=40)
    data = {
        "reference": "ADM-1",
        "factory": "Porto",
        "warehouse": warehouse.pk,
        "status": "confirmed",
        "eta": eta.isoformat(),
        "change_reason": "New purchase order",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-sku": sku.pk,
        "lines-0-quantity": "36",
        "eta_changes-TOTAL_FORMS": "0",
        "eta_changes-INITIAL_FORMS": "0",
        "eta_changes-MIN_NUM_FORMS": "0",
        "eta_changes-MAX_NUM_FORMS": "1000",
    }
    response = planner_client.post(reverse("admin:inventory_inboundrun_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    run = InboundRun.objects.get(reference="ADM-1")
    assert (run.eta, run.status, run.factory) == (eta, "confirmed", "Porto")
    assert list(InboundLine.objects.values_list("sku", "quantity")) == [(sku.pk, 36)]

    # without a line, the form says so and nothing is created
    data.update({"reference": "ADM-2", "lines-TOTAL_FORMS": "0"})
    response = planner_client.post(reverse("admin:inventory_inboundrun_add"), data)
    assert response.status_code == 200
    assert not InboundRun.objects.filter(reference="ADM-2").exists()


@pytest.mark.parametrize(
    "name", ["style", "sku", "stocklevel", "inboundrun", "etachange", "warehouse", "season"]
)
def test_every_inventory_admin_list_loads(admin_client, warehouse, name):
    StockLevelFactory(warehouse=warehouse)
    InboundLineFactory()
    response = admin_client.get(reverse(f"admin:inventory_{name}_changelist"))
    assert response.status_code == 200


def test_the_style_list_shows_and_filters_by_season(admin_client):
    season = Season.objects.create(code="SS27", name="Spring/Summer 2027", starts_on="2027-01-04")
    StyleFactory(name="Summer Sandal", season=season)
    StyleFactory(name="Old Boot")
    url = reverse("admin:inventory_style_changelist")
    page = admin_client.get(url, {"season__code__exact": "SS27"}).content.decode()
    assert "Summer Sandal" in page
    assert "Old Boot" not in page
    assert "Spring/Summer 2027" in page  # the column and the filter

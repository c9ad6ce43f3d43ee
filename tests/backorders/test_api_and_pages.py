import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from backorders.models import DecisionRequest, DecisionStatus
from backorders.services import eta_change
from backorders.services.links import decision_token
from inventory.models import StockLevel
from orders.models import DecisionDefault
from tests.backorders.helpers import backordered_line, messages, run_with, sku_in_stock, today
from tests.conftest import api_client_for
from tests.factories import SKUFactory, StaffFactory


@pytest.fixture
def late_line(account, buyer, warehouse):
    sku = SKUFactory()
    sku_in_stock(warehouse=warehouse, style=sku.style, color="Navy", size=sku.size, width=sku.width)
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=5)
    eta_change(run=run, new_eta=today() + dt.timedelta(days=80), reason="Factory", user=None)
    return line


def _decision_url(line_id):
    return f"/api/v1/backorders/{line_id}/decision/"


def test_api_decision_keep_and_switch(buyer_api, late_line):
    response = buyer_api.post(_decision_url(late_line.pk), {"action": "keep"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["decision"] == DecisionStatus.KEPT
    alt = DecisionRequest.objects.get().alternatives[0]["sku"]
    response = buyer_api.post(
        _decision_url(late_line.pk), {"action": "switch", "sku": alt}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["new_line"]["sku"] == alt


def test_api_decision_on_another_accounts_line_is_404(other_api, late_line):
    response = other_api.post(_decision_url(late_line.pk), {"action": "cancel"}, format="json")
    assert response.status_code == 404
    late_line.refresh_from_db()
    assert late_line.backordered == 5


def test_api_decision_bad_input_names_the_field(buyer_api, late_line):
    response = buyer_api.post(_decision_url(late_line.pk), {"action": "later"}, format="json")
    assert response.status_code == 400
    assert "action" in response.json()["errors"]
    response = buyer_api.post(_decision_url(late_line.pk), {"action": "switch"}, format="json")
    assert response.status_code == 400
    assert "sku" in response.json()["errors"]
    response = buyer_api.post(
        _decision_url(late_line.pk), {"action": "switch", "sku": "NOPE"}, format="json"
    )
    assert response.status_code == 400
    assert "sku" in response.json()["errors"]
    late_line.refresh_from_db()
    assert late_line.backordered == 5


def test_api_eta_and_receive_are_staff_only(buyer_api, planner, account, buyer, warehouse):
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=5)
    url = f"/api/v1/inbound/{run.reference}/eta/"
    body = {"eta": (today() + dt.timedelta(days=20)).isoformat(), "reason": "Late"}
    assert buyer_api.post(url, body, format="json").status_code == 403
    staff = api_client_for(planner)
    response = staff.post(url, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["lines_moved"] == 1
    bad = staff.post(url, {"eta": "soon", "reason": ""}, format="json")
    assert bad.status_code == 400
    assert {"eta", "reason"} <= set(bad.json()["errors"])
    assert staff.post("/api/v1/inbound/NOPE/eta/", body, format="json").status_code == 404
    receive = f"/api/v1/inbound/{run.reference}/receive/"
    assert buyer_api.post(receive, {}, format="json").status_code == 403
    bad = staff.post(receive, {"lines": [{"sku": sku.code, "quantity": 0}]}, format="json")
    assert bad.status_code == 400
    response = staff.post(receive, {"lines": [{"sku": sku.code, "quantity": 5}]}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["filled_backorders"] == {sku.code: 5}
    assert StockLevel.objects.get(sku=sku).on_hand == 5


def test_api_stock_sync_names_the_row(buyer_api, planner, warehouse):
    sku = SKUFactory()
    staff = api_client_for(planner)
    url = "/api/v1/stock/sync/"
    assert buyer_api.post(url, [{"sku": sku.code, "on_hand": 3}], format="json").status_code == 403
    response = staff.post(
        url,
        [
            {"sku": sku.code, "on_hand": 3},
            {"sku": sku.code},
            {"sku": sku.code, "on_hand": "x"},
            {"sku": "NOPE", "on_hand": 1},
        ],
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"[1].on_hand", "[2].on_hand", "[3].sku"} <= set(errors)
    assert not StockLevel.objects.filter(sku=sku).exists()
    assert staff.post(url, {"sku": sku.code}, format="json").status_code == 400
    response = staff.post(
        url, [{"sku": sku.code, "warehouse": "MAIN", "on_hand": 3}], format="json"
    )
    assert response.status_code == 200, response.json()
    assert StockLevel.objects.get(sku=sku).on_hand == 3


# --- Pages -----------------------------------------------------------------------------


def test_backorders_page_lists_open_backorders_with_decisions(
    buyer_client, late_line, django_assert_max_num_queries
):
    with django_assert_max_num_queries(25):
        response = buyer_client.get(reverse("portal:backorders"))
    assert response.status_code == 200
    body = response.content.decode()
    assert late_line.sku.code in body
    assert "Answer by" in body
    assert 'name="csrfmiddlewaretoken"' in body


def test_backorders_page_does_not_show_other_accounts(client, other_buyer, late_line):
    client.force_login(other_buyer)
    response = client.get(reverse("portal:backorders"))
    assert response.status_code == 200
    assert late_line.sku.code not in response.content.decode()
    response = client.post(
        reverse("portal:backorder_decide", args=[late_line.pk]), {"action": "cancel"}
    )
    assert response.status_code == 404
    late_line.refresh_from_db()
    assert late_line.backordered == 5


def test_backorders_page_decision_form_cancels(buyer_client, late_line):
    response = buyer_client.post(
        reverse("portal:backorder_decide", args=[late_line.pk]), {"action": "cancel"}
    )
    assert response.status_code == 302
    late_line.refresh_from_db()
    assert late_line.backordered == 0


def _link(line, user):
    request = DecisionRequest.objects.get(line=line)
    return reverse(
        "portal:decision_link", args=[decision_token(request_id=request.pk, user_id=user.pk)]
    )


def test_decision_link_get_only_shows_and_post_decides(client, buyer, late_line):
    url = _link(late_line, buyer)
    response = client.get(url + "?action=cancel")
    assert response.status_code == 200
    assert "Confirm" in response.content.decode()
    late_line.refresh_from_db()
    assert late_line.backordered == 5  # a mail scanner following the link changes nothing
    response = client.post(url, {"action": "cancel"})
    assert response.status_code == 200
    late_line.refresh_from_db()
    assert late_line.backordered == 0
    # used twice: a clear "already decided" page, no change
    response = client.post(url, {"action": "keep"})
    assert response.status_code == 200
    assert "Already decided" in response.content.decode()
    assert DecisionRequest.objects.get().status == DecisionStatus.CANCELLED


def test_decision_link_tampered_or_expired(client, buyer, late_line):
    url = _link(late_line, buyer)
    tampered = url.replace("/decide/", "/decide/x")
    assert client.get(tampered).status_code == 400
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=30)):
        response = client.get(url)
        assert response.status_code == 410
        assert client.post(url, {"action": "cancel"}).status_code == 410
    late_line.refresh_from_db()
    assert late_line.backordered == 5


def test_decision_link_works_only_for_its_user(client, buyer, second_buyer, late_line):
    url = _link(late_line, buyer)
    client.force_login(second_buyer)
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "cancel"}).status_code == 404
    client.force_login(buyer)
    assert client.get(url).status_code == 200
    late_line.refresh_from_db()
    assert late_line.backordered == 5


def test_decision_email_links_point_at_the_page_answering_every_line(late_line):
    message = messages("decision_request").first()
    assert "/backorders/answer/" in message.context["decide_url"]
    assert message.context["keep_all_url"] == message.context["decide_url"] + "?all=keep"
    assert message.context["cancel_all_url"] == message.context["decide_url"] + "?all=cancel"
    assert message.context["lines"][0]["alternatives"]


def test_account_settings_sets_window_and_default(buyer_client, account):
    url = reverse("portal:account_settings")
    assert buyer_client.get(url).status_code == 200
    response = buyer_client.post(
        url, {"mode": "days", "window_days": "30", "decision_default": DecisionDefault.KEEP}
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.backorder_window_days, account.decision_default) == (30, "keep")
    assert account.accepts_backorders
    response = buyer_client.post(url, {"mode": "days", "window_days": "0", "decision_default": "x"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "errorlist" in body
    account.refresh_from_db()
    assert account.backorder_window_days == 30
    buyer_client.post(url, {"mode": "none", "decision_default": "cancel"})
    account.refresh_from_db()
    assert not account.accepts_backorders


def test_account_settings_is_for_buyers_only(client, account):
    from orders.models import MembershipRole
    from tests.factories import MembershipFactory

    viewer = MembershipFactory(account=account, role=MembershipRole.VIEWER).user
    client.force_login(viewer)
    assert client.get(reverse("portal:account_settings")).status_code == 403
    client.force_login(StaffFactory())
    assert client.get(reverse("portal:account_settings")).status_code == 404

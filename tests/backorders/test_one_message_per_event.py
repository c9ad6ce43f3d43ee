"""One message per person per event: an ETA change, a shortage. Buyers are asked about
every late line in one message and answer them on one page; viewers are told."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from backorders.models import DecisionRequest, DecisionStatus
from backorders.services import eta_change, stock_sync
from backorders.services.links import decisions_token, decisions_token_read
from backorders.services.stock import StockCountRequest
from notifications.models import Message, MessageStatus, NotificationPreference
from orders.models import MembershipRole
from orders.services import LineRequest, order_place
from tests.backorders.helpers import assert_split, backordered_line, run_with, sku_in_stock, today
from tests.factories import MembershipFactory, SKUFactory, StyleFactory, UserFactory

LATE = 10  # lines whose order's cancel date the slip overshoots
ON_TIME = 5  # lines still inside the 45-day window


@pytest.fixture
def viewer(account):
    return MembershipFactory(account=account, user=UserFactory(), role=MembershipRole.VIEWER).user


@pytest.fixture
def slip(account, buyer, second_buyer, viewer, warehouse):
    """A run carrying 15 SKUs, each backordered by its own order of one account; then
    the run slips 3 weeks: 10 orders' cancel dates are overshot, 5 stay inside."""
    style = StyleFactory()
    skus = [SKUFactory(style=style, color=f"Colour {n}") for n in range(LATE + ON_TIME)]
    run = run_with(skus=skus, warehouse=warehouse, eta_days=14)
    lines = [
        backordered_line(
            account=account,
            buyer=buyer,
            sku=sku,
            run=run,
            quantity=4,
            po_number=f"PO-{n}",
            cancel_date=today() + dt.timedelta(days=30) if n < LATE else None,
        )
        for n, sku in enumerate(skus)
    ]
    result = eta_change(
        run=run, new_eta=today() + dt.timedelta(days=35), reason="Sole supplier late", user=None
    )
    return run, lines, result


def test_a_slip_touching_15_lines_sends_each_person_one_message(slip, buyer, second_buyer, viewer):
    run, lines, result = slip
    assert len(result.decisions) == LATE
    assert len(result.moved) == ON_TIME
    sent = Message.objects.filter(kind__in=["eta_moved", "decision_request"])
    assert sorted(sent.values_list("recipient_id", flat=True)) == sorted(
        [buyer.pk, second_buyer.pk, viewer.pk]
    )
    # buyers: asked about the 10 late lines, each with its options, told of the 5 others
    for user in (buyer, second_buyer):
        asked = sent.get(recipient=user)
        assert asked.kind == "decision_request"
        assert len(asked.context["lines"]) == LATE
        assert all("alternatives" in row for row in asked.context["lines"])
        assert len(asked.context["moved_lines"]) == ON_TIME
        assert asked.context["run_reference"] == run.reference
    # the viewer is told of all 15, asked nothing: no signed link to decide
    told = sent.get(recipient=viewer)
    assert told.kind == "eta_moved"
    assert len(told.context["asked_lines"]) == LATE
    assert len(told.context["lines"]) == ON_TIME
    assert "decide_url" not in told.context


def test_each_buyers_message_carries_their_own_link(slip, buyer, second_buyer):
    urls = {
        message.recipient_id: message.context["decide_url"]
        for message in Message.objects.filter(kind="decision_request")
    }
    assert urls[buyer.pk] != urls[second_buyer.pk]


def test_preferences_still_apply_to_those_told(account, buyer, viewer, warehouse):
    NotificationPreference.objects.create(user=viewer, kind="eta_moved", enabled=False)
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=3)
    eta_change(run=run, new_eta=today() + dt.timedelta(days=20), reason="Late", user=None)
    statuses = dict(Message.objects.filter(kind="eta_moved").values_list("recipient_id", "status"))
    assert statuses[viewer.pk] == MessageStatus.SKIPPED  # in the portal feed, not emailed
    assert statuses[buyer.pk] == MessageStatus.PENDING


def test_a_shortage_across_three_orders_sends_one_message_per_person(
    account, buyer, viewer, warehouse
):
    sku = sku_in_stock(warehouse=warehouse, on_hand=9)
    for n in range(3):
        order_place(
            account=account, user=buyer, lines=[LineRequest(sku.code, 3)], po_number=f"PO-{n}"
        )
    result = stock_sync(counts=[StockCountRequest(sku=sku.code, on_hand=0)], user=None)
    assert result.cancelled + result.backordered == 9
    sent = Message.objects.filter(kind="stock_shortage")
    assert sorted(sent.values_list("recipient_id", flat=True)) == sorted([buyer.pk, viewer.pk])
    context = sent.first().context
    assert sorted(row["po_number"] for row in context["lines"]) == ["PO-0", "PO-1", "PO-2"]


# --- The page answering every line ---------------------------------------------------


def _choices(requests, **overrides):
    return {f"choice-{request.pk}": overrides.get(str(request.pk), "") for request in requests}


def test_the_page_answers_lines_one_by_one_and_the_rest_all_at_once(
    buyer_client, slip, django_assert_max_num_queries
):
    _, lines, _ = slip
    url = reverse("portal:decisions")
    with django_assert_max_num_queries(14):
        page = buyer_client.get(url)
    assert page.status_code == 200
    requests = list(DecisionRequest.objects.order_by("pk"))
    for request in requests:
        assert f'name="choice-{request.pk}"' in page.text
    first, second, *rest = requests
    data = _choices(requests, **{str(first.pk): "cancel", str(second.pk): "keep"})
    response = buyer_client.post(url, {**data, "all": "keep"})
    assert response.status_code == 302
    statuses = dict(DecisionRequest.objects.values_list("pk", "status"))
    assert statuses[first.pk] == DecisionStatus.CANCELLED
    assert all(statuses[request.pk] == DecisionStatus.KEPT for request in [second, *rest])
    for line in lines:
        assert_split(line)


def test_lines_left_open_stay_pending(buyer_client, slip):
    requests = list(DecisionRequest.objects.order_by("pk"))
    data = _choices(requests, **{str(requests[0].pk): "cancel"})
    assert buyer_client.post(reverse("portal:decisions"), {**data, "all": ""}).status_code == 302
    assert DecisionRequest.objects.filter(status=DecisionStatus.PENDING).count() == LATE - 1


def test_one_bad_answer_changes_nothing_and_names_its_line(buyer_client, slip):
    requests = list(DecisionRequest.objects.order_by("pk"))
    bad = requests[3]
    data = _choices(requests, **{str(bad.pk): "switch:NO-SUCH-SKU"})
    response = buyer_client.post(reverse("portal:decisions"), {**data, "all": "cancel"})
    assert response.status_code == 400
    assert "Unknown SKU" in response.text
    assert f'id="decision-{bad.pk}"' in response.text
    assert not DecisionRequest.objects.exclude(status=DecisionStatus.PENDING).exists()


def test_a_switch_chosen_on_the_page_allocates_the_alternative(
    buyer_client, account, buyer, warehouse
):
    sku = SKUFactory()
    alternative = sku_in_stock(
        warehouse=warehouse, style=sku.style, color="Navy", size=sku.size, width=sku.width
    )
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=5)
    eta_change(run=run, new_eta=today() + dt.timedelta(days=80), reason="Factory", user=None)
    request = DecisionRequest.objects.get(line=line)
    page = buyer_client.get(reverse("portal:decisions"))
    assert f"switch:{alternative.code}" in page.text
    response = buyer_client.post(
        reverse("portal:decisions"), {f"choice-{request.pk}": f"switch:{alternative.code}"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == DecisionStatus.SWITCHED
    assert request.switched_to.sku == alternative


def test_viewers_see_the_lines_but_no_form(client, viewer, slip):
    client.force_login(viewer)
    page = client.get(reverse("portal:decisions"))
    assert page.status_code == 200
    assert "buyers have been asked" in page.text
    assert 'name="choice-' not in page.text
    requests = list(DecisionRequest.objects.all())
    client.post(reverse("portal:decisions"), {**_choices(requests), "all": "cancel"})
    assert not DecisionRequest.objects.exclude(status=DecisionStatus.PENDING).exists()


def test_the_emailed_link_opens_the_page_without_signing_in(client, slip, buyer):
    message = Message.objects.get(kind="decision_request", recipient=buyer)
    url = message.context["decide_url"].removeprefix(settings.SITE_URL)
    token = url.removeprefix("/backorders/answer/").rstrip("/")
    assert decisions_token_read(token) == (
        slip[2].eta_change.pk,
        slip[1][0].order.account_id,
        buyer.pk,
    )
    # GET (a mail scanner, or "cancel them all" opened) only shows the page
    page = client.get(url + "?all=cancel")
    assert page.status_code == 200
    assert 'value="cancel" checked' in page.text
    assert not DecisionRequest.objects.exclude(status=DecisionStatus.PENDING).exists()
    requests = list(DecisionRequest.objects.all())
    done = client.post(url, {**_choices(requests), "all": "cancel"})
    assert done.status_code == 200
    assert "Your answers" in done.text
    assert DecisionRequest.objects.filter(status=DecisionStatus.CANCELLED).count() == LATE
    # used again: nothing left to answer, nothing changes
    again = client.post(url, {**_choices(requests), "all": "keep"})
    assert "Nothing is waiting for an answer" in again.text
    assert not DecisionRequest.objects.filter(status=DecisionStatus.KEPT).exists()


def test_the_link_is_for_its_user_only_and_expires(client, slip, buyer, second_buyer, viewer):
    change, account_id = slip[2].eta_change, slip[1][0].order.account_id

    def url_for(user):
        token = decisions_token(eta_change_id=change.pk, account_id=account_id, user_id=user.pk)
        return reverse("portal:decisions_link", args=[token])

    url = url_for(buyer)
    assert client.get(url.replace("/answer/", "/answer/x")).status_code == 400
    assert client.get(url_for(viewer)).status_code == 404  # a viewer cannot decide
    client.force_login(second_buyer)
    assert client.get(url).status_code == 404
    assert client.post(url, {"all": "cancel"}).status_code == 404
    client.logout()
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=30)):
        assert client.post(url, {"all": "cancel"}).status_code == 410
    assert not DecisionRequest.objects.exclude(status=DecisionStatus.PENDING).exists()

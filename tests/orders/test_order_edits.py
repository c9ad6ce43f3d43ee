"""Changing an open order before it ships: lines added and reduced through the same rules
as a placement and the ledger's verbs; the order keeps its number and PO and is confirmed
again; viewers cannot; a retry with the same key changes nothing twice; added pairs queue
behind those already waiting."""

from decimal import Decimal

import pytest
from django.urls import reverse

from backorders.services import ReceiveRequest, run_receive
from inventory.models import StockLevel
from notifications.models import Message
from notifications.rendering import render_message
from orders.exceptions import IdempotencyKeyReused, OrderInputError, OrderNotAllowed
from orders.models import BackorderPolicy, CreditStatus, OrderEdit, OrderLine, OrderStatus
from orders.services import LineRequest, order_place
from orders.services.fulfilment import shipment_confirm
from orders.services.order_edits import ReduceRequest, order_edit
from tests.backorders.helpers import assert_counters, assert_split, run_with
from tests.factories import RepFactory, StaffFactory
from tests.orders.conftest import inbound_for, make_fill_in, stocked_sku

PRICE = Decimal("50.00")


@pytest.fixture
def placed(account, buyer, warehouse):
    """A fill-in order of 12 pairs at $50 (PO-EDIT), allocated from 100 in stock."""
    make_fill_in(account)
    sku = stocked_sku(warehouse=warehouse, price=PRICE)
    order = order_place(
        account=account, user=buyer, lines=[LineRequest(sku.code, 12)], po_number="PO-EDIT"
    ).order
    return order, order.lines.get()


def _edit(order, user, add=(), reduce=(), **kwargs):
    return order_edit(
        order=order,
        user=user,
        add=[LineRequest(code, quantity) for code, quantity in add],
        reduce=[ReduceRequest(line_id, by) for line_id, by in reduce],
        **kwargs,
    )


def _refused(order, user, **kwargs) -> dict:
    before = (OrderLine.objects.count(), OrderEdit.objects.count(), Message.objects.count())
    with pytest.raises(OrderInputError) as error:
        _edit(order, user, **kwargs)
    assert (OrderLine.objects.count(), OrderEdit.objects.count(), Message.objects.count()) == (
        before
    )
    return error.value.message_dict


# --- adding and reducing -------------------------------------------------------------------


def test_a_line_added_is_allocated_and_the_order_keeps_its_number_and_po(placed, buyer, warehouse):
    order, _ = placed
    other = stocked_sku(warehouse=warehouse, price=Decimal("40.00"))
    # when the buyer adds 6 pairs of another style
    result = _edit(order, buyer, add=[(other.code, 6)])
    # then the order keeps its number and PO, the line is allocated at the account's price
    order.refresh_from_db()
    assert result.created
    assert (order.number, order.po_number, order.status) == (
        result.order.number,
        "PO-EDIT",
        OrderStatus.OPEN,
    )
    added = order.lines.get(sku=other)
    assert (added.allocated, added.unit_price, added.queued_at is not None) == (
        6,
        Decimal("40.00"),
        True,
    )
    assert order.subtotal == Decimal("840.00")  # 12 x 50 + 6 x 40
    assert order.freight == 0  # over the $500 threshold already
    assert StockLevel.objects.get(sku=other).allocated == 6
    assert_split(added)
    assert_counters()
    assert result.edit.added == [{"line": added.pk, "sku": other.code, "quantity": 6}]


def test_the_change_is_confirmed_like_a_new_order(placed, buyer, warehouse):
    order, line = placed
    other = stocked_sku(warehouse=warehouse)
    result = _edit(order, buyer, add=[(other.code, 6)], reduce=[(line.pk, 2)])
    message = Message.objects.get(key__startswith=f"order-change:{result.edit.pk}:")
    rendered = render_message(message)
    assert f"Order {order.number} changed" in rendered.subject
    for body in (rendered.text, rendered.html):
        assert other.code in body
        assert "reduced" in body.lower()


def test_a_reduction_cancels_open_pairs_and_releases_stock(placed, buyer):
    order, line = placed
    _edit(order, buyer, reduce=[(line.pk, 4)])
    line.refresh_from_db()
    assert (line.allocated, line.cancelled, line.cancel_reason) == (
        8,
        4,
        "Reduced by the retailer.",
    )
    assert StockLevel.objects.get(sku=line.sku).allocated == 8
    order.refresh_from_db()
    assert order.subtotal == Decimal("400.00")
    assert order.freight == Decimal("0.00")  # quoted once; a reduction never adds freight
    assert_split(line)
    assert_counters()


def test_adding_past_the_threshold_makes_freight_free(account, buyer, warehouse):
    make_fill_in(account)
    sku = stocked_sku(warehouse=warehouse, price=PRICE)
    order = order_place(account=account, user=buyer, lines=[LineRequest(sku.code, 6)]).order
    assert order.freight == Decimal("15.00")
    _edit(order, buyer, add=[(stocked_sku(warehouse=warehouse, price=PRICE).code, 6)])
    order.refresh_from_db()
    assert (order.subtotal, order.freight, order.total) == (
        Decimal("600.00"),
        Decimal("0.00"),
        Decimal("600.00"),
    )


def test_added_pairs_follow_the_orders_backorder_policy_and_window(account, buyer, warehouse):
    make_fill_in(account)
    sku = stocked_sku(warehouse=warehouse)
    order = order_place(
        account=account,
        user=buyer,
        lines=[LineRequest(sku.code, 6)],
        backorder_policy=BackorderPolicy.NONE,
    ).order
    short = stocked_sku(warehouse=warehouse, on_hand=2)
    inbound_for(sku=short, warehouse=warehouse)
    _edit(order, buyer, add=[(short.code, 6)])
    line = order.lines.get(sku=short)
    assert (line.allocated, line.backordered, line.cancelled) == (2, 0, 4)
    assert line.cancel_reason


def test_added_backorders_queue_behind_those_already_waiting(account, buyer, warehouse):
    # given an order placed first, then another store's backorder of SKU X on a run
    make_fill_in(account)
    first = order_place(
        account=account,
        user=buyer,
        lines=[LineRequest(stocked_sku(warehouse=warehouse).code, 6)],
    ).order
    short = stocked_sku(warehouse=warehouse, on_hand=0)
    run = run_with(skus=[short], warehouse=warehouse, quantity=20)
    waiting = order_place(account=account, user=buyer, lines=[LineRequest(short.code, 6)]).order
    # when the first (older) order adds 6 of X, backordered on the same run
    _edit(first, buyer, add=[(short.code, 6)])
    added = first.lines.get(sku=short)
    assert added.backordered == 6
    # and only 6 pairs arrive
    run_receive(run=run, user=StaffFactory(), lines=[ReceiveRequest(short.code, 6)])
    # then they go to the store that was waiting before the pairs were added
    assert waiting.lines.get().allocated == 6
    added.refresh_from_db()
    assert added.backordered == 6
    assert_counters()


# --- rules and bad input ---------------------------------------------------------------------


def test_a_reduction_below_the_minimum_is_refused(placed, buyer):
    order, line = placed
    errors = _refused(order, buyer, reduce=[(line.pk, 8)])  # 4 pairs left, minimum 6
    assert "reduce" in errors
    assert "at least 6 pairs" in errors["reduce"][0]
    line.refresh_from_db()
    assert line.allocated == 12


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        ({}, "lines"),
        ({"add": [("NOPE-1", 6)]}, "add[0].sku"),
        ({"add": [("", 6)]}, "add[0].sku"),
        ({"add": [("SAME", 0)]}, "add[0].quantity"),
        ({"add": [("SAME", "six")]}, "add[0].quantity"),
        ({"add": [("SAME", 6)]}, "add[0].sku"),  # already on the order
        ({"reduce": [("LINE", 13)]}, "reduce[0].by"),
        ({"reduce": [("LINE", -1)]}, "reduce[0].by"),
        ({"reduce": [(999999, 1)]}, "reduce[0].id"),
        ({"reduce": [("abc", 1)]}, "reduce[0].id"),
        ({"reduce": [("LINE", 1), ("LINE", 1)]}, "reduce[1].id"),
    ],
)
def test_bad_input_is_named_and_changes_nothing(placed, buyer, edit, field):
    order, line = placed

    def fill(value):
        return {"SAME": line.sku.code, "LINE": line.pk}.get(value, value)

    kwargs = {
        kind: [(fill(first), second) for first, second in rows] for kind, rows in edit.items()
    }
    errors = _refused(order, buyer, **kwargs)
    assert field in errors, errors


def test_a_line_of_another_order_cannot_be_reduced(placed, buyer, account, warehouse):
    order, _ = placed
    other_order = order_place(
        account=account, user=buyer, lines=[LineRequest(stocked_sku(warehouse=warehouse).code, 6)]
    ).order
    errors = _refused(order, buyer, reduce=[(other_order.lines.get().pk, 1)])
    assert "reduce[0].id" in errors


def test_an_order_that_has_begun_shipping_cannot_change(placed, buyer, warehouse):
    order, line = placed
    shipment_confirm(
        order=order, carrier="UPS", tracking="1ZEDIT0001", lines=[(line.sku.code, 6)], user=None
    )
    errors = _refused(order, buyer, add=[(stocked_sku(warehouse=warehouse).code, 6)])
    assert "begun shipping" in errors["order"][0]


def test_an_account_on_manual_hold_cannot_add(placed, buyer, account, warehouse):
    order, line = placed
    account.credit_status = CreditStatus.HOLD
    account.save()
    errors = _refused(order, buyer, add=[(stocked_sku(warehouse=warehouse).code, 6)])
    assert "account" in errors
    _edit(order, buyer, reduce=[(line.pk, 2)])  # taking pairs off is still allowed


def test_adding_over_the_credit_limit_puts_the_order_on_hold(placed, buyer, account, warehouse):
    order, _ = placed
    account.credit_limit = Decimal("700.00")
    account.save()
    _edit(order, buyer, add=[(stocked_sku(warehouse=warehouse, price=PRICE).code, 6)])
    order.refresh_from_db()
    assert order.on_credit_hold
    assert order.credit_hold_reasons[0]["code"] == "over_limit"


# --- who may change an order, and retries ----------------------------------------------------


def test_viewers_and_other_accounts_cannot_change_an_order(placed, viewer, other_buyer, warehouse):
    order, _ = placed
    for user in (viewer, other_buyer):
        with pytest.raises(OrderNotAllowed):
            _edit(order, user, add=[(stocked_sku(warehouse=warehouse).code, 6)])
    assert not OrderEdit.objects.exists()


def test_the_accounts_rep_may_change_it(placed, account, warehouse):
    order, _ = placed
    account.rep = RepFactory()
    account.save()
    result = _edit(order, account.rep, add=[(stocked_sku(warehouse=warehouse).code, 6)])
    assert result.edit.user == account.rep


def test_customer_service_sees_the_change_on_the_order_page(placed, buyer, client, warehouse):
    from portal.roles import StaffRole
    from tests.orders.test_service_desk_helpers import staff_with

    order, _ = placed
    other = stocked_sku(warehouse=warehouse)
    _edit(order, buyer, add=[(other.code, 6)])
    client.force_login(staff_with(StaffRole.CS_AGENT))
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "Changes by the store (1)" in page
    assert f"6 × <code>{other.code}</code>" in page


def test_a_retry_with_the_same_key_changes_nothing_twice(placed, buyer, warehouse):
    order, _ = placed
    other = stocked_sku(warehouse=warehouse)
    first = _edit(order, buyer, add=[(other.code, 6)], idempotency_key="k-1")
    again = _edit(order, buyer, add=[(other.code, 6)], idempotency_key="k-1")
    assert (first.created, again.created, again.edit.pk) == (True, False, first.edit.pk)
    assert order.lines.filter(sku=other).count() == 1
    with pytest.raises(IdempotencyKeyReused):
        _edit(order, buyer, add=[(other.code, 7)], idempotency_key="k-1")


# --- the API -----------------------------------------------------------------------------------


def _lines_url(order):
    return reverse("api:order-lines", args=[order.number])


def test_the_api_changes_an_order_within_its_query_budget(
    placed, buyer_api, warehouse, django_assert_max_num_queries
):
    order, line = placed
    other = stocked_sku(warehouse=warehouse)
    body = {"add": [{"sku": other.code, "quantity": 6}], "reduce": [{"id": line.pk, "by": 2}]}
    with django_assert_max_num_queries(60):
        response = buyer_api.post(_lines_url(order), body, format="json", HTTP_IDEMPOTENCY_KEY="a")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["number"] == order.number
    assert data["po_number"] == "PO-EDIT"
    assert {row["sku"]: row["quantity"] - row["cancelled"] for row in data["lines"]} == {
        line.sku.code: 10,
        other.code: 6,
    }
    # the same key and body again: the same order, changed once
    again = buyer_api.post(_lines_url(order), body, format="json", HTTP_IDEMPOTENCY_KEY="a")
    assert again.status_code == 200
    assert OrderEdit.objects.count() == 1
    body["add"][0]["quantity"] = 7
    other_body = buyer_api.post(_lines_url(order), body, format="json", HTTP_IDEMPOTENCY_KEY="a")
    assert other_body.status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"add": [{"sku": "NOPE", "quantity": 6}]}, "add[0].sku"),
        ({"add": [{"sku": "X", "quantity": "lots"}]}, "add[0].quantity"),
        ({"reduce": [{"id": 0, "by": 1}]}, "reduce[0].id"),
        ({"reduce": [{"id": "LINE"}]}, "reduce[0].by"),
        ({}, "lines"),
    ],
)
def test_the_api_names_the_bad_field(placed, buyer_api, body, field):
    order, line = placed
    for row in body.get("reduce", []):
        if row["id"] == "LINE":
            row["id"] = line.pk
    response = buyer_api.post(_lines_url(order), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not OrderEdit.objects.exists()


def test_a_viewer_gets_403_from_the_api(placed, viewer, warehouse):
    from tests.conftest import api_client_for

    order, _ = placed
    body = {"add": [{"sku": stocked_sku(warehouse=warehouse).code, "quantity": 6}]}
    assert api_client_for(viewer).post(_lines_url(order), body, format="json").status_code == 403


# --- the portal ------------------------------------------------------------------------------


def test_the_order_page_changes_the_order(
    placed, buyer_client, warehouse, django_assert_max_num_queries
):
    order, line = placed
    other = stocked_sku(warehouse=warehouse)
    url = reverse("portal:order_detail", args=[order.number])
    with django_assert_max_num_queries(14):
        page = buyer_client.get(url).content.decode()
    assert "Change this order" in page
    response = buyer_client.post(
        reverse("portal:order_edit", args=[order.number]),
        {
            "add-sku-0": other.code,
            "add-qty-0": "6",
            f"reduce-{line.pk}": "2",
            "idempotency_key": "p-1",
        },
    )
    assert response.status_code == 302
    assert order.lines.get(sku=other).allocated == 6
    line.refresh_from_db()
    assert line.cancelled == 2


def test_the_order_page_names_a_bad_row_and_keeps_what_was_typed(placed, buyer_client):
    order, _ = placed
    response = buyer_client.post(
        reverse("portal:order_edit", args=[order.number]), {"add-sku-0": "NOPE", "add-qty-0": "6"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Added line NOPE: Unknown SKU" in body.replace("&#x27;", "'")
    assert 'value="NOPE"' in body
    assert not OrderEdit.objects.exists()


def test_a_viewer_sees_no_change_form_and_cannot_post_one(placed, client, viewer, warehouse):
    order, _ = placed
    client.force_login(viewer)
    page = client.get(reverse("portal:order_detail", args=[order.number])).content.decode()
    assert "Change this order" not in page
    response = client.post(
        reverse("portal:order_edit", args=[order.number]),
        {"add-sku-0": stocked_sku(warehouse=warehouse).code, "add-qty-0": "6"},
    )
    assert response.status_code == 403
    assert not OrderEdit.objects.exists()

"""Each event writes its deliveries in its own transaction (a rollback sends nothing), to
the account's endpoints and the every-account ones only, once per event key."""

import datetime as dt

import pytest
from django.db import transaction

from backorders.services import eta_change
from orders.models import Order
from orders.services import CancelRequest, LineRequest, order_cancel, order_place
from orders.services.fulfilment import credit_memo_issue, shipment_confirm
from orders.services.ordering import order_place_in_transaction
from orders.webhooks.models import Delivery
from orders.webhooks.services import event_id_for, webhook_event_enqueue
from tests.backorders.helpers import backordered_line, run_with, today
from tests.factories import SKUFactory, StaffFactory, allocated_order_create
from tests.orders.conftest import make_fill_in, stocked_sku
from tests.webhooks.conftest import endpoint_for


@pytest.fixture
def endpoints(allow_private, buyer, other_buyer, account, other_account):
    """One endpoint per account and one of the brand's ERP for every account."""
    erp = StaffFactory(is_superuser=True)
    return {
        "mine": endpoint_for(user=buyer, url="http://127.0.0.1:9/mine", account=account),
        "theirs": endpoint_for(
            user=other_buyer, url="http://127.0.0.1:9/theirs", account=other_account
        ),
        "erp": endpoint_for(user=erp, url="http://127.0.0.1:9/erp", account=None),
    }


def _sent_to(event):
    return {
        delivery.endpoint.url.rsplit("/", 1)[1]
        for delivery in Delivery.objects.filter(event=event).select_related("endpoint")
    }


def _place(account, buyer, sku, quantity=6):
    make_fill_in(account)
    return order_place(
        account=account, user=buyer, lines=[LineRequest(sku.code, quantity)], po_number="PO-1"
    ).order


def test_an_order_placed_reaches_its_account_and_the_erp_after_commit(
    endpoints, account, buyer, warehouse, kicks, django_capture_on_commit_callbacks
):
    sku = stocked_sku(warehouse=warehouse, on_hand=50)
    with django_capture_on_commit_callbacks(execute=True):
        order = _place(account, buyer, sku)
    assert _sent_to("order.placed") == {"mine", "erp"}
    delivery = Delivery.objects.get(endpoint=endpoints["mine"])
    assert delivery.event_id == event_id_for(f"order.placed:{order.pk}")
    payload = delivery.payload
    assert (payload["type"], payload["account"], payload["id"]) == (
        "order.placed",
        account.number,
        str(delivery.event_id),
    )
    assert payload["data"]["order"] == order.number
    assert payload["data"]["lines"][0]["sku"] == sku.code
    assert payload["data"]["lines"][0]["allocated"] == 6
    # the ERP's copy carries the same event id, for its dedup
    assert {d.event_id for d in Delivery.objects.all()} == {delivery.event_id}
    assert sorted(kicks) == sorted(Delivery.objects.values_list("pk", flat=True))


def test_a_rolled_back_event_writes_and_sends_nothing(
    endpoints, account, buyer, warehouse, kicks, django_capture_on_commit_callbacks
):
    sku = stocked_sku(warehouse=warehouse, on_hand=50)
    make_fill_in(account)
    written = []

    def place_then_fail():
        with transaction.atomic():
            order_place_in_transaction(
                account=account, user=buyer, lines=[LineRequest(sku.code, 6)], po_number="PO-1"
            )
            written.append(Delivery.objects.count())
            raise RuntimeError("the order's transaction fails after the event")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        place_then_fail()
    assert written == [2]  # the deliveries were written inside the transaction
    assert not Order.objects.filter(po_number="PO-1").exists()
    assert not Delivery.objects.exists()
    assert kicks == []
    assert callbacks == []


def test_the_same_event_again_writes_nothing_new(endpoints, account, kicks):
    first = webhook_event_enqueue(
        event="order.placed", key="order.placed:42", account=account, data={"n": 1}
    )
    again = webhook_event_enqueue(
        event="order.placed", key="order.placed:42", account=account, data={"n": 1}
    )
    assert len(first) == 2
    assert again == []
    assert Delivery.objects.count() == 2


def test_an_endpoint_receives_only_what_it_subscribed_to(allow_private, account, buyer, kicks):
    endpoint_for(user=buyer, url="http://127.0.0.1:9/x", account=account, events=["invoice.issued"])
    assert webhook_event_enqueue(event="order.placed", key="k", account=account, data={}) == []
    assert len(webhook_event_enqueue(event="invoice.issued", key="k", account=account, data={}))


def test_an_order_edit_is_order_changed_once_per_change(
    endpoints, account, buyer, warehouse, kicks
):
    from orders.services.order_edits import order_edit

    order = _place(account, buyer, stocked_sku(warehouse=warehouse, on_hand=50))
    added = stocked_sku(warehouse=warehouse, on_hand=50)
    for _ in range(2):  # a retry with the same key tells nothing twice
        order_edit(order=order, user=buyer, add=[LineRequest(added.code, 6)], idempotency_key="e-1")
    assert _sent_to("order.changed") == {"mine", "erp"}
    assert Delivery.objects.filter(event="order.changed").count() == 2
    payload = Delivery.objects.filter(event="order.changed").first().payload
    assert {line["sku"] for line in payload["data"]["lines"]} >= {added.code}


def test_cancelling_part_is_order_changed_all_of_it_order_cancelled(
    endpoints, account, buyer, warehouse, kicks
):
    sku = stocked_sku(warehouse=warehouse, on_hand=50)
    order = _place(account, buyer, sku, quantity=6)
    line = order.lines.get()
    order_cancel(order=order, user=buyer, lines=[CancelRequest(line.pk, 2)])
    assert _sent_to("order.changed") == {"mine", "erp"}
    order_cancel(order=order, user=buyer)
    assert _sent_to("order.cancelled") == {"mine", "erp"}
    payload = Delivery.objects.filter(event="order.cancelled").first().payload
    assert payload["data"]["status"] == "cancelled"
    assert payload["data"]["lines"][0]["cancelled"] == 6
    # a repeated cancel that cancels nothing more tells nothing more
    order_cancel(order=order, user=buyer)
    assert Delivery.objects.filter(event="order.cancelled").count() == 2


def test_a_shipment_its_invoice_and_a_credit_memo_are_events(endpoints, account, warehouse, kicks):
    sku = stocked_sku(warehouse=warehouse, on_hand=50)
    order = allocated_order_create(account=account, lines=[(sku, 6)], po_number="PO-SHIP")
    result = shipment_confirm(
        order=order, carrier="UPS", tracking="1Z999AA10123456784", lines=[(sku.code, 6)], user=None
    )
    memo = credit_memo_issue(invoice=result.invoice, amount="10.00", reason="damaged", user=None)
    assert _sent_to("shipment.created") == {"mine", "erp"}
    assert _sent_to("invoice.issued") == {"mine", "erp"}
    assert _sent_to("credit_memo.issued") == {"mine", "erp"}
    shipped = Delivery.objects.filter(event="shipment.created").first().payload["data"]
    assert (shipped["shipment"], shipped["tracking"]) == (
        result.shipment.number,
        "1Z999AA10123456784",
    )
    assert shipped["lines"] == [{"id": order.lines.get().pk, "sku": sku.code, "quantity": 6}]
    invoiced = Delivery.objects.filter(event="invoice.issued").first().payload["data"]
    assert (invoiced["invoice"], invoiced["total"]) == (
        result.invoice.number,
        str(result.invoice.total),
    )
    credited = Delivery.objects.filter(event="credit_memo.issued").first().payload["data"]
    assert (credited["credit_memo"], credited["amount"]) == (memo.number, "10.00")


def test_an_eta_change_tells_moved_lines_and_asks_for_decisions(
    endpoints, account, buyer, warehouse, kicks, monkeypatch
):
    monkeypatch.setattr("notifications.services.delivery_kick", lambda ids: 0)
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    make_fill_in(account)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=6)
    eta_change(run=run, new_eta=today() + dt.timedelta(days=21), reason="Port", user=None)
    assert _sent_to("backorder.eta_changed") == {"mine", "erp"}
    data = Delivery.objects.filter(event="backorder.eta_changed").first().payload["data"]
    assert (data["run"], data["reason"]) == (run.reference, "Port")
    assert data["lines"][0]["sku"] == sku.code
    assert not Delivery.objects.filter(event="backorder.decision_requested").exists()
    # pushed past its window: a decision is asked, naming the line to answer for
    eta_change(run=run, new_eta=today() + dt.timedelta(days=90), reason="Factory", user=None)
    assert _sent_to("backorder.decision_requested") == {"mine", "erp"}
    data = Delivery.objects.filter(event="backorder.decision_requested").first().payload["data"]
    assert data["lines"][0]["line"] == line.pk
    assert data["lines"][0]["deadline"]


def test_the_sweep_cancelling_past_its_window_tells_the_order_once(
    endpoints, account, buyer, warehouse, kicks, monkeypatch
):
    from backorders.services import backorder_sweep_all
    from orders.models import OrderLine

    monkeypatch.setattr("notifications.services.delivery_kick", lambda ids: 0)
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse)
    make_fill_in(account)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=6)
    OrderLine.objects.filter(pk=line.pk).update(window_end=today() - dt.timedelta(days=1))
    backorder_sweep_all()
    backorder_sweep_all()  # a second run the same day tells nothing more
    assert _sent_to("order.cancelled") == {"mine", "erp"}
    data = Delivery.objects.filter(event="order.cancelled").first().payload["data"]
    assert data["order"] == line.order.number
    assert (data["lines"][0]["cancelled"], data["lines"][0]["backordered"]) == (6, 0)
    assert Delivery.objects.filter(event="order.cancelled").count() == 2


def test_a_retailers_decision_to_cancel_is_an_order_change(
    endpoints, account, buyer, warehouse, kicks, monkeypatch
):
    from backorders.services import backorder_decide

    monkeypatch.setattr("notifications.services.delivery_kick", lambda ids: 0)
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse)
    make_fill_in(account)
    kept = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=6)
    backorder_decide(line=kept, action="keep", user=buyer)
    assert not Delivery.objects.filter(event__startswith="order.c").exists()
    backorder_decide(line=kept, action="cancel", user=buyer)
    assert _sent_to("order.cancelled") == {"mine", "erp"}


def test_no_endpoint_listening_costs_one_query(
    account, buyer, warehouse, django_assert_num_queries
):
    from orders.webhooks.services import orders_changed_enqueue

    sku = stocked_sku(warehouse=warehouse, on_hand=50)
    order = _place(account, buyer, sku)
    with django_assert_num_queries(1):
        assert orders_changed_enqueue(order_ids=[order.pk], cause="test") == []


def test_a_stock_shortage_that_moves_an_orders_pairs_is_an_order_change(
    endpoints, account, buyer, warehouse, kicks, monkeypatch
):
    from backorders.services.stock import StockCountRequest, stock_sync

    monkeypatch.setattr("notifications.services.delivery_kick", lambda ids: 0)
    sku = stocked_sku(warehouse=warehouse, on_hand=6)
    order = _place(account, buyer, sku, quantity=6)
    stock_sync(counts=[StockCountRequest(sku.code, 2)], user=StaffFactory())
    assert _sent_to("order.changed") | _sent_to("order.cancelled") == {"mine", "erp"}
    data = Delivery.objects.exclude(event="order.placed").first().payload["data"]
    assert data["order"] == order.number
    line = data["lines"][0]
    assert line["allocated"] == 2
    assert line["backordered"] + line["cancelled"] == 4

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.models import StockLevel
from orders.models import BackorderPeg, CartLine, Invoice, Shipment, ShipmentLine
from orders.selectors import line_expected_dates
from tests.factories import (
    InboundLineFactory,
    InboundRunFactory,
    MembershipFactory,
    MessageFactory,
    OrderFactory,
    OrderLineFactory,
    SKUFactory,
    StockLevelFactory,
    UserFactory,
)


def shipment_with_invoice(*, order, line, quantity, days_ago=2, due_in=30, number="1"):
    shipped_at = timezone.now() - dt.timedelta(days=days_ago)
    shipment = Shipment.objects.create(
        number=f"SH-{number}",
        order=order,
        carrier="UPS",
        tracking=f"1Z{number}",
        shipped_at=shipped_at,
    )
    ShipmentLine.objects.create(shipment=shipment, order_line=line, quantity=quantity)
    issued = shipped_at.date()
    Invoice.objects.create(
        number=f"INV-{number}",
        account=order.account,
        order=order,
        shipment=shipment,
        issued_on=issued,
        due_on=timezone.localdate() + dt.timedelta(days=due_in),
        terms_label="Net 30",
        subtotal=Decimal("120.00"),
        freight=Decimal("15.00"),
        total=Decimal("135.00"),
        paid_amount=Decimal("35.00"),
    )
    return shipment


def backordered_line(*, account, run_eta_days=21, quantity=6, order=None):
    run = InboundRunFactory(eta=timezone.localdate() + dt.timedelta(days=run_eta_days))
    inbound = InboundLineFactory(run=run, quantity=50, promised=quantity)
    order = order or OrderFactory(account=account)
    line = OrderLineFactory(
        order=order, sku=inbound.sku, quantity=quantity, allocated=0, backordered=quantity
    )
    BackorderPeg.objects.create(line=line, inbound_line=inbound, quantity=quantity)
    return line


@pytest.fixture
def busy_account(account, buyer, warehouse):
    """An account with an open order, a backorder, a shipment, an invoice, a core SKU it
    reorders, and two notifications."""
    order = OrderFactory(account=account, po_number="PO-DASH-1")
    shipped = OrderLineFactory(order=order, quantity=12, allocated=10, shipped=2)
    shipment_with_invoice(order=order, line=shipped, quantity=2, number="D1")
    core = SKUFactory(core=True, code="CORE-BLK-8")
    StockLevelFactory(sku=core, warehouse=warehouse, on_hand=40)
    OrderLineFactory(order=OrderFactory(account=account), sku=core, quantity=9)
    backordered_line(account=account)
    MessageFactory(recipient=buyer, subject="Your order shipped")
    MessageFactory(recipient=buyer, subject="Older note", read_at=timezone.now())
    return account


def test_dashboard_shows_every_panel(buyer_client, busy_account, django_assert_max_num_queries):
    # when (21: the core list's prices read the account's price list, and the runs'
    # factory records give calibrated dates)
    with django_assert_max_num_queries(21):
        response = buyer_client.get(reverse("portal:dashboard"))
    # then
    assert response.status_code == 200
    page = response.content.decode()
    d = response.context["d"]
    assert d.open_order_count == 3
    assert "PO-DASH-1" in page
    assert d.backordered_pairs == 6
    line = d.backorders[0]
    expected = line_expected_dates(lines=[line])[line.pk]
    assert line.expected_date == expected
    assert f"{expected:%b} {expected.day}" in page
    assert [s.number for s in d.shipments] == ["SH-D1"]
    assert [i.number for i in d.invoices] == ["INV-D1"]
    assert d.invoice_totals["balance"] == Decimal("100.00")
    assert "$100.00" in page
    assert d.core_list[0].code == "CORE-BLK-8"
    assert d.core_list[0].usual_quantity == 9
    assert d.core_list[0].ats_now == 40
    assert "Add 9" in page
    assert d.unread == 1
    assert "Your order shipped" in page


def test_dashboard_query_count_does_not_grow_with_data(
    buyer_client, busy_account, django_assert_max_num_queries
):
    # given: many more rows of every kind
    for i in range(10):
        order = OrderFactory(account=busy_account)
        line = OrderLineFactory(order=order, quantity=5, allocated=4, shipped=1)
        shipment_with_invoice(order=order, line=line, quantity=1, number=f"X{i}")
        backordered_line(account=busy_account, order=order)
        SKUFactory(core=True)
    # when / then: the same budget as with one of each
    with django_assert_max_num_queries(21):
        response = buyer_client.get(reverse("portal:dashboard"))
    assert response.status_code == 200
    assert len(response.context["d"].backorders) == 8


def test_dashboard_shows_nothing_of_another_account(client, busy_account, other_buyer):
    # given
    client.force_login(other_buyer)
    # when
    response = client.get(reverse("portal:dashboard"))
    # then
    d = response.context["d"]
    assert d.open_order_count == 0
    assert d.backorders == []
    assert d.shipments == []
    assert d.invoices == []
    assert "PO-DASH-1" not in response.content.decode()
    assert "Your order shipped" not in response.content.decode()


def test_user_without_account_gets_a_page(client, db):
    client.force_login(UserFactory())
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 200
    assert "no retailer account" in response.content.decode()


def test_core_reorder_adds_the_usual_quantity_to_the_cart(buyer_client, buyer, busy_account):
    # when
    response = buyer_client.post(
        reverse("portal:core_reorder"), {"sku": "CORE-BLK-8", "quantity": "9"}
    )
    # then
    assert response.status_code == 302
    line = CartLine.objects.get(cart__user=buyer, cart__account=busy_account)
    assert (line.sku.code, line.quantity) == ("CORE-BLK-8", 9)


@pytest.mark.parametrize(
    ("sku", "quantity", "error"),
    [
        ("CORE-BLK-8", "zero", "whole number"),
        ("CORE-BLK-8", "-3", "at least 1"),
        ("NOPE-1", "9", "Unknown SKU"),
    ],
)
def test_core_reorder_bad_input_names_the_problem_and_changes_nothing(
    buyer_client, busy_account, sku, quantity, error
):
    response = buyer_client.post(
        reverse("portal:core_reorder"), {"sku": sku, "quantity": quantity}, follow=True
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not CartLine.objects.exists()


def test_viewer_cannot_reorder(client, busy_account):
    viewer = MembershipFactory(account=busy_account, role="viewer").user
    client.force_login(viewer)
    response = client.post(reverse("portal:core_reorder"), {"sku": "CORE-BLK-8", "quantity": "9"})
    assert response.status_code == 403
    assert not CartLine.objects.exists()
    assert StockLevel.objects.get(sku__code="CORE-BLK-8").allocated == 0


def test_dashboard_requires_login(client, db):
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_dashboard_lists_pending_decisions_with_their_link(buyer_client, account, other_account):
    from backorders.models import DecisionRequest, DecisionStatus

    # given: a pending and an answered request here, a pending one at another account
    line = backordered_line(account=account)
    pending = DecisionRequest.objects.create(
        line=line,
        run=line.pegs.get().inbound_line.run,
        quantity=6,
        old_date=timezone.localdate() + dt.timedelta(days=10),
        new_date=timezone.localdate() + dt.timedelta(days=40),
        deadline=timezone.localdate() + dt.timedelta(days=5),
    )
    answered = backordered_line(account=account)
    DecisionRequest.objects.create(
        line=answered,
        run=answered.pegs.get().inbound_line.run,
        quantity=6,
        old_date=timezone.localdate(),
        new_date=timezone.localdate(),
        deadline=timezone.localdate(),
        status=DecisionStatus.KEPT,
    )
    elsewhere = backordered_line(account=other_account)
    DecisionRequest.objects.create(
        line=elsewhere,
        run=elsewhere.pegs.get().inbound_line.run,
        quantity=6,
        old_date=timezone.localdate(),
        new_date=timezone.localdate(),
        deadline=timezone.localdate(),
    )
    # when
    response = buyer_client.get(reverse("portal:dashboard"))
    # then
    assert response.context["d"].decisions == [pending]
    assert reverse("portal:backorder_decide", args=[line.pk]) in response.content.decode()

"""Credit limits: an order over the account's limit, or placed while an invoice is too far
past due, is accepted and allocated but held; the store sees why and what releases it;
the warehouse cannot ship it; customer service releases it within their authority (the
credit limits), logged; a payment that clears the account releases it; the review page
warns before submit. Two placements at once cannot both fit under one limit."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from notifications.models import Message
from notifications.rendering import render_message
from orders.exceptions import OrderInputError, OrderOnCreditHold
from orders.models import AuditEvent, CreditStatus, Invoice, Order, Shipment
from orders.notices import credit_released_enqueue
from orders.services import LineRequest, order_place
from orders.services.cart import cart_lines_add
from orders.services.credit_holds import order_credit_release
from orders.services.fulfilment import payment_record, shipment_confirm
from orders.services.service_desk import StaffNotAllowed
from portal.roles import StaffRole
from tests.backorders.helpers import race
from tests.conftest import api_client_for, concurrent
from tests.factories import (
    AccountFactory,
    CommercialTermsFactory,
    MembershipFactory,
    ShipToFactory,
    UserFactory,
)
from tests.orders.conftest import make_fill_in, stocked_sku
from tests.orders.test_service_desk_helpers import shipped_order, staff_with

PRICE = Decimal("50.00")


@pytest.fixture
def store(account, warehouse):
    """A fill-in account with a $1,000 limit and a SKU at $50 with 100 pairs."""
    make_fill_in(account)
    account.credit_limit = Decimal("1000.00")
    account.save()
    return account, stocked_sku(warehouse=warehouse, price=PRICE)


def _small_held_order(account, buyer, warehouse):
    """A $195 order (6 pairs at $30, $15 freight) held over a $100 limit: within an
    agent's $250 authority."""
    account.credit_limit = Decimal("100.00")
    account.save()
    sku = stocked_sku(warehouse=warehouse, price=Decimal("30.00"))
    order = _place(account, buyer, sku, 6)
    assert order.on_credit_hold
    return order


def _place(account, user, sku, quantity, **kwargs):
    return order_place(
        account=account, user=user, lines=[LineRequest(sku.code, quantity)], **kwargs
    ).order


def _ship(order, quantity, tracking="1ZHOLD0001"):
    return shipment_confirm(
        order=order,
        carrier="UPS",
        tracking=tracking,
        lines=[(order.lines.get().sku.code, quantity)],
        user=None,
    )


def _past_due(account, days):
    """A shipped, unpaid invoice of $100 that fell due ``days`` ago."""
    _, invoice = shipped_order(account=account, price="10.00", quantity=10)
    Invoice.objects.filter(pk=invoice.pk).update(
        due_on=timezone.localdate() - dt.timedelta(days=days)
    )
    return invoice


# --- placement --------------------------------------------------------------------------


def test_an_order_within_the_limit_is_not_held(store, buyer):
    account, sku = store
    order = _place(account, buyer, sku, 12)  # $600 + $15 freight
    assert not order.on_credit_hold
    assert order.credit_hold_reasons == []


def test_an_order_over_the_limit_is_accepted_allocated_and_held(store, buyer):
    account, sku = store
    # when the store orders $1,200 against a $1,000 limit
    order = _place(account, buyer, sku, 24)
    # then the order is placed and its pairs reserved, but held, saying why and what releases it
    order.refresh_from_db()
    assert order.number
    assert order.on_credit_hold
    assert order.lines.get().allocated == 24
    (reason,) = order.credit_hold_reasons
    assert reason["code"] == "over_limit"
    assert "$1,200.00, over the credit limit of $1,000.00" in reason["reason"]
    # nothing is invoiced yet: no payment can release it, customer service can
    assert reason["release"] == "Customer service can release it."


def test_a_payment_is_named_as_the_release_when_paying_invoices_can_clear_it(store, buyer):
    account, sku = store
    shipped_order(account=account, price="50.00", quantity=10)  # $500 invoiced, not yet due
    order = _place(account, buyer, sku, 12)  # $600: $1,100 against a $1,000 limit
    (reason,) = order.credit_hold_reasons
    assert reason["release"].startswith("Paying $100.00 of open invoices releases it")


def test_open_orders_count_toward_the_balance(store, buyer):
    account, sku = store
    first = _place(account, buyer, sku, 12)  # $600 on order, not yet invoiced
    second = _place(account, buyer, sku, 8)  # $400 more: $1,000 + freight is over
    assert not first.on_credit_hold
    assert second.on_credit_hold


def test_an_invoice_past_the_threshold_holds_the_next_order(store, buyer, terms):
    account, sku = store
    invoice = _past_due(account, days=terms.past_due_hold_days + 1)
    order = _place(account, buyer, sku, 6)
    assert order.on_credit_hold
    (reason,) = order.credit_hold_reasons
    assert reason["code"] == "past_due"
    assert invoice.number in reason["reason"]
    assert "$100.00 past due" in reason["release"]


def test_an_invoice_within_the_threshold_does_not_hold(store, buyer, terms):
    account, sku = store
    _past_due(account, days=terms.past_due_hold_days)
    assert not _place(account, buyer, sku, 6).on_credit_hold


def test_the_accounts_override_comes_before_the_terms(store, buyer, terms):
    account, sku = store
    account.credit_limit = None  # the terms' $50,000
    account.past_due_hold_days = 5
    account.save()
    _past_due(account, days=6)
    assert _place(account, buyer, sku, 6).on_credit_hold


def test_a_manual_account_hold_still_refuses_new_orders(store, buyer):
    account, sku = store
    account.credit_status = CreditStatus.HOLD
    account.save()
    with pytest.raises(OrderInputError, match="credit hold") as error:
        _place(account, buyer, sku, 6)
    assert "account" in error.value.message_dict
    assert not Order.objects.filter(lines__isnull=False).exists()


def test_the_confirmation_says_it_is_held_and_what_releases_it(store, buyer):
    account, sku = store
    order = _place(account, buyer, sku, 24)
    rendered = render_message(Message.objects.get(kind="order_confirmation"))
    for body in (rendered.text, rendered.html):
        assert "credit hold" in body.lower()
        assert order.credit_hold_reasons[0]["release"] in body


# --- the warehouse ----------------------------------------------------------------------


def test_the_warehouse_cannot_ship_a_held_order(store, buyer):
    account, sku = store
    order = _place(account, buyer, sku, 24)
    with pytest.raises(OrderOnCreditHold) as error:
        _ship(order, 24)
    assert "on credit hold" in error.value.message_dict["order"][0]
    assert not Shipment.objects.exists()
    assert order.lines.get().allocated == 24


def test_the_shipments_api_answers_409_naming_the_order(store, buyer):
    account, sku = store
    order = _place(account, buyer, sku, 24)
    warehouse_api = api_client_for(staff_with(StaffRole.INTEGRATION))
    body = {
        "order": order.number,
        "carrier": "UPS",
        "tracking": "1ZHOLD0002",
        "lines": [{"sku": sku.code, "quantity": 24}],
    }
    response = warehouse_api.post(reverse("api:shipments"), body, format="json")
    assert response.status_code == 409
    assert "credit hold" in response.json()["errors"]["order"][0]
    assert not Shipment.objects.exists()
    # once released it ships
    boss = staff_with(None, is_superuser=True)
    order_credit_release(order=order, user=boss, note="Paid by wire")
    response = warehouse_api.post(reverse("api:shipments"), body, format="json")
    assert response.status_code == 201


def test_the_shipment_import_refuses_a_held_orders_rows(store, buyer, tmp_path, capsys):
    account, sku = store
    order = _place(account, buyer, sku, 24)
    path = tmp_path / "shipments.csv"
    path.write_text(
        f"order,carrier,tracking,sku,quantity\n{order.number},UPS,1ZCSV1,{sku.code},24\n"
    )
    for dry_run in (["--dry-run"], []):
        with pytest.raises(CommandError):
            call_command("import_shipments", str(path), "--no-progress", *dry_run)
        assert "credit hold" in capsys.readouterr().err
    assert not Shipment.objects.exists()


# --- release ------------------------------------------------------------------------------


def test_an_agent_releases_within_their_authority_and_it_is_logged(store, buyer, warehouse):
    account, _ = store
    order = _small_held_order(account, buyer, warehouse)
    agent = staff_with(StaffRole.CS_AGENT)
    order_credit_release(order=order, user=agent, note="Cheque in the post")
    order.refresh_from_db()
    assert not order.on_credit_hold
    assert order.credit_released_by == agent
    event = AuditEvent.objects.get(action="order.credit_released")
    assert event.actor == agent
    assert event.reason == "Cheque in the post"
    assert event.changes["value"] == [None, "195.00"]
    _ship(order, 6)  # the warehouse may ship it now


def test_a_release_above_an_agents_authority_is_refused(store, buyer):
    account, sku = store
    order = _place(account, buyer, sku, 24)  # $1,200
    with pytest.raises(StaffNotAllowed, match=r"above your authority of \$250.00"):
        order_credit_release(order=order, user=staff_with(StaffRole.CS_AGENT), note="Trust")
    order.refresh_from_db()
    assert order.on_credit_hold
    assert not AuditEvent.objects.filter(action="order.credit_released").exists()
    # a superuser (the credit manager) may
    boss = staff_with(None, is_superuser=True)
    order_credit_release(order=order, user=boss, note="Approved by finance")
    order.refresh_from_db()
    assert not order.on_credit_hold


@pytest.mark.parametrize(
    ("who", "note", "error"),
    [
        ("planner", "ok", "permission"),
        ("agent", "", "note"),
        ("agent", "x" * 501, "note"),
    ],
)
def test_a_release_needs_authority_and_a_reason(store, buyer, warehouse, who, note, error):
    account, _ = store
    order = _small_held_order(account, buyer, warehouse)
    role = StaffRole.PLANNER if who == "planner" else StaffRole.CS_AGENT
    with pytest.raises((OrderInputError, StaffNotAllowed)) as raised:
        order_credit_release(order=order, user=staff_with(role), note=note)
    if error == "note":
        assert "note" in raised.value.message_dict
    else:
        assert isinstance(raised.value, StaffNotAllowed)
    order.refresh_from_db()
    assert order.on_credit_hold


def test_no_release_while_the_account_is_on_manual_hold_or_the_order_is_not_held(store, buyer):
    account, sku = store
    free = _place(account, buyer, sku, 6)
    held = _place(account, buyer, sku, 20)
    lead = staff_with(StaffRole.CS_LEAD)
    with pytest.raises(OrderInputError) as error:
        order_credit_release(order=free, user=lead, note="x")
    assert "not on credit hold" in error.value.message_dict["order"][0]
    account.credit_status = CreditStatus.HOLD
    account.save()
    with pytest.raises(OrderInputError) as error:
        order_credit_release(order=held, user=lead, note="x")
    assert "account" in error.value.message_dict
    held.refresh_from_db()
    assert held.on_credit_hold


def test_a_payment_that_clears_the_past_due_invoice_releases_the_order(store, buyer, terms):
    account, sku = store
    invoice = _past_due(account, days=terms.past_due_hold_days + 10)
    order = _place(account, buyer, sku, 6)
    assert order.on_credit_hold
    # a part payment leaves it held
    payment_record(invoice=invoice, amount=Decimal("40.00"))
    order.refresh_from_db()
    assert order.on_credit_hold
    # paying the rest releases it, logged as the system's
    payment_record(invoice=invoice, amount=Decimal("60.00"))
    order.refresh_from_db()
    assert not order.on_credit_hold
    assert order.credit_released_by is None
    event = AuditEvent.objects.get(action="order.credit_released")
    assert event.actor is None
    assert "Paid" in event.reason


def test_a_release_tells_the_buyers_once_that_the_order_will_ship(store, buyer, warehouse):
    account, _ = store
    colleague = MembershipFactory(account=account).user
    order = _small_held_order(account, buyer, warehouse)
    with pytest.raises(OrderInputError):
        order_credit_release(order=order, user=staff_with(StaffRole.CS_AGENT), note="")
    assert not Message.objects.filter(kind="credit_released").exists()
    order_credit_release(order=order, user=staff_with(StaffRole.CS_AGENT), note="Wired")
    sent = Message.objects.filter(kind="credit_released").order_by("recipient_id")
    assert {message.recipient for message in sent} == {buyer, colleague}
    rendered = render_message(sent[0])
    assert f"Order {order.number} released" in rendered.subject
    assert "is no longer on credit hold" in rendered.text
    assert f"/orders/{order.number}/" in rendered.html
    # a retry of the same release's message writes nothing new
    order.refresh_from_db()
    credit_released_enqueue(order=order)
    assert Message.objects.filter(kind="credit_released").count() == 2


def test_a_payment_that_releases_the_order_tells_the_buyers(store, buyer, terms):
    account, sku = store
    invoice = _past_due(account, days=terms.past_due_hold_days + 10)
    order = _place(account, buyer, sku, 6)
    payment_record(invoice=invoice, amount=Decimal("40.00"))
    assert not Message.objects.filter(kind="credit_released").exists()
    payment_record(invoice=invoice, amount=Decimal("60.00"))
    (message,) = Message.objects.filter(kind="credit_released", recipient=buyer)
    assert message.context["order_number"] == order.number


# --- the store's pages and the API ------------------------------------------------------


def test_the_order_page_and_api_say_why_and_what_releases_it(
    store, buyer, buyer_client, buyer_api, django_assert_max_num_queries
):
    account, sku = store
    order = _place(account, buyer, sku, 24)
    reason = order.credit_hold_reasons[0]
    body = buyer_client.get(reverse("portal:order_detail", args=[order.number])).content.decode()
    assert "On credit hold" in body
    assert reason["reason"] in body.replace("&#x27;", "'")
    assert reason["release"] in body
    listing = buyer_client.get(reverse("portal:order_list")).content.decode()
    assert '<span class="badge bad">Credit hold</span>' in listing
    with django_assert_max_num_queries(12):
        data = buyer_api.get(reverse("api:order-detail", args=[order.number])).json()
    assert data["credit_hold"]["held"] is True
    assert data["credit_hold"]["reasons"][0]["code"] == "over_limit"
    assert data["credit_hold"]["reasons"][0]["release"] == reason["release"]
    listed = buyer_api.get(reverse("api:orders")).json()["results"]
    assert listed[0]["on_credit_hold"] is True


def test_the_review_page_warns_before_submit(
    store, buyer, buyer_client, django_assert_max_num_queries
):
    account, sku = store
    cart_lines_add(user=buyer, account=account, lines=[LineRequest(sku.code, 24)])
    with django_assert_max_num_queries(19):
        body = buyer_client.get(reverse("portal:review")).content.decode()
    assert "will not ship until it is released" in body
    assert "over the credit limit of $1,000.00" in body
    assert "disabled" not in body.split('id="submit', 1)[-1][:200]  # still placeable


def test_the_review_page_is_quiet_within_the_limit(store, buyer, buyer_client):
    account, sku = store
    cart_lines_add(user=buyer, account=account, lines=[LineRequest(sku.code, 6)])
    body = buyer_client.get(reverse("portal:review")).content.decode()
    assert "will not ship until it is released" not in body


# --- the admin ---------------------------------------------------------------------------


def test_customer_service_releases_from_the_order_page(store, buyer, client, warehouse):
    account, _ = store
    order = _small_held_order(account, buyer, warehouse)
    client.force_login(staff_with(StaffRole.CS_AGENT))
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "On credit hold" in page
    assert "credit-release" in page
    url = reverse("admin:orders_order_service", args=[order.pk, "credit-release"])
    assert client.post(url, {"note": ""}).status_code == 200  # the form, with its error
    order.refresh_from_db()
    assert order.on_credit_hold
    response = client.post(url, {"note": "Paid by card on the phone"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert not order.on_credit_hold
    changelist = reverse("admin:orders_order_changelist")
    released = client.get(changelist + "?credit_hold=released").content.decode()
    assert "Released order" in released
    assert order.number in released
    assert order.number not in client.get(changelist + "?credit_hold=held").content.decode()


def test_a_planner_cannot_release(store, buyer, client):
    account, sku = store
    order = _place(account, buyer, sku, 24)
    client.force_login(staff_with(StaffRole.PLANNER))
    url = reverse("admin:orders_order_service", args=[order.pk, "credit-release"])
    assert client.post(url, {"note": "x"}).status_code == 403
    order.refresh_from_db()
    assert order.on_credit_hold


# --- concurrency --------------------------------------------------------------------------


@concurrent
@pytest.mark.django_db(transaction=True)
def test_two_placements_at_once_cannot_both_fit_under_the_limit(warehouse):
    # given an account with room for one $600 order under its $1,000 limit
    CommercialTermsFactory()
    account = AccountFactory(credit_limit=Decimal("1000.00"))
    ShipToFactory(account=account)
    make_fill_in(account)
    sku = stocked_sku(warehouse=warehouse, price=PRICE)
    buyers = [MembershipFactory(account=account, user=UserFactory()).user for _ in range(2)]
    # when both buyers place at once
    outcome = race(
        {user.email: lambda user=user: _place(account, user, sku, 12) for user in buyers}
    )
    # then both are placed and exactly one is held
    assert not [result for result in outcome.values() if isinstance(result, Exception)]
    held = [order.number for order in Order.objects.on_credit_hold()]
    assert len(held) == 1

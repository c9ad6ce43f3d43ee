"""With a factory that is usually late, a backorder's date carries the slip: a move of
the ETA inside that slip changes no date and tells no one; a move beyond it is told, and
every reader shows the same date and says what it rests on."""

import datetime as dt

import pytest
from django.urls import reverse

from backorders.services import ReceiveRequest, eta_change, run_receive
from inventory.calendar import add_business_days
from inventory.models import InboundStatus
from inventory.selectors import factory_records
from notifications.kinds import context_complete
from orders.selectors import line_expected_dates
from tests.backorders.helpers import backordered_line, messages, run_with, today
from tests.factories import InboundRunFactory, SKUFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def late_factory(warehouse):
    """Five received runs, each nine days after the ETA it was booked with."""
    for index in range(5):
        eta = today() - dt.timedelta(days=60 + 10 * index)
        InboundRunFactory(
            factory="Leon",
            warehouse=warehouse,
            status=InboundStatus.RECEIVED,
            eta=eta,
            arrived_on=eta + dt.timedelta(days=9),
        )
    return "Leon"


def test_the_promised_date_carries_the_factorys_usual_slip(account, buyer, warehouse, late_factory):
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14, factory=late_factory)

    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=4)

    calibrated = add_business_days(run.eta + dt.timedelta(days=9), line.order.terms.receiving_days)
    assert line.promised_date == calibrated
    assert line_expected_dates(lines=[line])[line.pk] == calibrated


def test_a_move_inside_the_usual_slip_is_not_news(account, buyer, warehouse, late_factory):
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14, factory=late_factory)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=4)
    promised = line.promised_date

    eta_change(run=run, new_eta=run.eta + dt.timedelta(days=5), reason="Late", user=None)

    assert line_expected_dates(lines=[line])[line.pk] == promised
    assert not messages("eta_moved").exists()


def test_a_move_beyond_the_usual_slip_is_told_with_the_same_date(
    account, buyer, warehouse, late_factory
):
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14, factory=late_factory)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=4)

    eta_change(run=run, new_eta=run.eta + dt.timedelta(days=16), reason="Late", user=None)

    line.refresh_from_db()
    expected = line_expected_dates(lines=[line])[line.pk]
    assert expected > line.promised_date
    assert line.communicated_date == expected
    (told,) = messages("eta_moved")
    assert told.context["lines"][0]["new_date"] == expected.isoformat()
    assert told.context["lines"][0]["new_basis"] == (
        f"ETA {run.eta:%b} {run.eta.day}; already 16 days later than first planned"
    )


def test_the_backorders_page_says_what_the_date_rests_on(
    buyer_client, account, buyer, warehouse, late_factory
):
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14, factory=late_factory)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=4)

    page = buyer_client.get(reverse("portal:backorders")).content.decode()

    assert f"ETA {run.eta:%b} {run.eta.day}; this factory is usually 9 days late" in page
    assert f"{line.promised_date:%b} {line.promised_date.day}, {line.promised_date.year}" in page


def test_the_order_page_api_and_confirmation_say_what_the_date_rests_on(
    buyer_client, buyer_api, account, buyer, warehouse, late_factory
):
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14, factory=late_factory)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=4)
    basis = f"ETA {run.eta:%b} {run.eta.day}; this factory is usually 9 days late"
    number = line.order.number

    page = buyer_client.get(reverse("portal:order_detail", args=[number])).content.decode()
    (api_line,) = buyer_api.get(f"/api/v1/orders/{number}/").json()["lines"]
    (confirmation,) = messages("order_confirmation")

    assert basis in page
    assert (api_line["expected_date"], api_line["expected_basis"]) == (
        line.promised_date.isoformat(),
        basis,
    )
    (told,) = context_complete(confirmation.kind, confirmation.context)["lines"]
    assert (told["expected_date"], told["expected_basis"]) == (
        line.promised_date.isoformat(),
        basis,
    )


def test_a_run_received_in_parts_counts_in_its_factorys_record_from_its_last_part(warehouse):
    # given a run due today, half received today and the rest six days later
    first, second = SKUFactory(), SKUFactory()
    run = run_with(skus=[first, second], warehouse=warehouse, eta_days=0, factory="Porto")
    run_receive(
        run=run, user=None, lines=[ReceiveRequest(first.code, 100)], key="part-1", today=run.eta
    )
    assert factory_records(factories=["Porto"])["Porto"].slips == (0,)

    run_receive(run=run, user=None, key="part-2", today=run.eta + dt.timedelta(days=6))

    # then the stores waiting for the second half waited six days: so does the record
    assert factory_records(factories=["Porto"])["Porto"].slips == (6,)

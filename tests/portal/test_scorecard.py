import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.models import EtaChange
from orders.models import BackorderPeg, Shipment, ShipmentLine
from orders.selectors import delivery_scorecard
from tests.factories import (
    InboundLineFactory,
    InboundRunFactory,
    OrderFactory,
    OrderLineFactory,
)

TODAY = dt.date(2026, 3, 16)


def day(offset):
    return TODAY + dt.timedelta(days=offset)


def shipped_line(*, order, quantity, shipped, promised, shipped_on, number):
    line = OrderLineFactory(
        order=order,
        quantity=quantity,
        allocated=0,
        shipped=shipped,
        cancelled=quantity - shipped,
        promised_date=promised,
    )
    at = timezone.make_aware(dt.datetime.combine(shipped_on, dt.time(15, 0)))
    shipment = Shipment.objects.create(
        number=f"SH-{number}", order=order, carrier="UPS", tracking=f"1Z{number}", shipped_at=at
    )
    ShipmentLine.objects.create(shipment=shipment, order_line=line, quantity=shipped)
    return line


@pytest.fixture
def history(account, other_account):
    order = OrderFactory(account=account)
    shipped_line(
        order=order, quantity=10, shipped=10, promised=day(-20), shipped_on=day(-25), number="1"
    )
    shipped_line(
        order=order, quantity=10, shipped=10, promised=day(-30), shipped_on=day(-26), number="2"
    )
    OrderLineFactory(order=order, quantity=10, allocated=10, promised_date=day(-10))
    OrderLineFactory(order=order, quantity=6, allocated=0, cancelled=6, promised_date=day(-15))
    OrderLineFactory(order=order, quantity=50, allocated=0, cancelled=50, promised_date=day(-200))
    other = OrderFactory(account=other_account)
    shipped_line(
        order=other, quantity=4, shipped=4, promised=day(-5), shipped_on=day(-5), number="3"
    )
    # ETA changes: one told in advance and one after the old date, on a run the account
    # waits for; one on a run only the other account waits for.
    mine = InboundLineFactory(run=InboundRunFactory(eta=day(40)), promised=5)
    waiting = OrderLineFactory(
        order=order, quantity=5, allocated=0, backordered=5, promised_date=day(30)
    )
    BackorderPeg.objects.create(line=waiting, inbound_line=mine, quantity=5)
    theirs = InboundLineFactory(run=InboundRunFactory(eta=day(40)), promised=2)
    their_line = OrderLineFactory(
        order=other, quantity=2, allocated=0, backordered=2, promised_date=day(30)
    )
    BackorderPeg.objects.create(line=their_line, inbound_line=theirs, quantity=2)
    for run, old in ((mine.run, day(20)), (mine.run, day(-2)), (theirs.run, day(9))):
        change = EtaChange.objects.create(run=run, old_eta=old, new_eta=day(40), reason="late")
        EtaChange.objects.filter(pk=change.pk).update(
            changed_at=timezone.make_aware(dt.datetime.combine(day(-1), dt.time(9)))
        )
    return account


def test_account_scorecard_counts_honestly(history):
    card = delivery_scorecard(account=history, today=TODAY)
    # fill: 20 of 36 pairs due in the window shipped (the 200-day-old line is outside)
    assert (card.shipped_pairs, card.ordered_pairs) == (20, 36)
    assert card.fill_rate.quantize(Decimal("0.1")) == Decimal("55.6")
    # on time: 1 of 3 measured lines (the wholly cancelled one has nothing to measure)
    assert (card.lines_on_time, card.lines_measured) == (1, 3)
    # late: 4 days (shipped late) and 10 days (still waiting) -> 7.0 on average
    assert card.lines_late == 2
    assert card.average_days_late == Decimal(7)
    # ETA changes: 1 of the 2 on runs the account waits for was told in advance
    assert (card.eta_changes_in_advance, card.eta_changes) == (1, 2)
    assert card.in_advance_rate == Decimal(50)


def test_brand_scorecard_covers_every_account(history):
    card = delivery_scorecard(today=TODAY)
    assert (card.shipped_pairs, card.ordered_pairs) == (24, 40)
    assert (card.lines_on_time, card.lines_measured) == (2, 4)
    assert (card.eta_changes_in_advance, card.eta_changes) == (2, 3)


def test_nothing_to_measure_is_no_data_not_100_percent(account):
    card = delivery_scorecard(account=account, today=TODAY)
    assert card.fill_rate is None
    assert card.on_time_rate is None
    assert card.average_days_late is None
    assert card.in_advance_rate is None


def test_empty_scorecard_page_says_no_data(buyer_client, account):
    response = buyer_client.get(reverse("portal:scorecard"))
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("no data") >= 8
    assert "100.0%" not in page
    assert '"data": [null, null, null]' in page


def test_scorecard_page_shows_account_and_brand(
    buyer_client, history, django_assert_max_num_queries, time_machine
):
    time_machine.move_to(timezone.make_aware(dt.datetime.combine(TODAY, dt.time(12))))
    with django_assert_max_num_queries(14):
        response = buyer_client.get(reverse("portal:scorecard"))
    page = response.content.decode()
    assert "55.6%" in page
    assert "60.0%" in page
    assert "33.3%" in page
    assert "50.0%" in page
    assert "20 of 36 pairs" in page
    assert 'id="scorecard-data"' in page


def test_scorecard_queries_do_not_grow_with_lines(
    buyer_client, history, account, django_assert_max_num_queries, time_machine
):
    time_machine.move_to(timezone.make_aware(dt.datetime.combine(TODAY, dt.time(12))))
    order = OrderFactory(account=account)
    for i in range(30):
        shipped_line(
            order=order, quantity=2, shipped=2, promised=day(-3), shipped_on=day(-4), number=f"M{i}"
        )
    with django_assert_max_num_queries(14):
        response = buyer_client.get(reverse("portal:scorecard"))
    assert response.context["sc"]["account"].lines_measured == 33

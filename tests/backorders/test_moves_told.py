"""A line the ledger moves to a later run without its run's ETA moving (a cancelled run's
lines re-pegged, a younger line giving its place to an older order) is told its new
date before the old one passes, as an ETA change tells it: the date recorded as told,
one eta_moved message per person of the account for the event."""

import pytest

from backorders.services import StockCountRequest, run_cancel, stock_sync
from orders.selectors import line_promises
from tests.backorders.helpers import assert_counters, backordered_line, messages, run_with
from tests.factories import SKUFactory

pytestmark = pytest.mark.django_db


def _promised(line):
    return line_promises(lines=[line])[line.pk].date


def test_a_cancelled_run_pushing_a_line_to_a_later_run_tells_the_store_once(
    account, buyer, warehouse, planner
):
    sku = SKUFactory()
    doomed = run_with(skus=[sku], warehouse=warehouse, quantity=20, eta_days=10)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=doomed, quantity=6)
    given = line.communicated_date or line.promised_date
    run_with(skus=[sku], warehouse=warehouse, quantity=20, eta_days=30)
    # when the run is cancelled and the line moves whole to the later run
    result = run_cancel(run=doomed, reason="Factory closed", user=planner)
    assert result.repegged == [line.pk]
    line.refresh_from_db()
    new_date = _promised(line)
    assert new_date > given
    # then its new date is recorded as told, and the store hears it once per person
    assert line.communicated_date == new_date
    told = messages("eta_moved")
    assert told.count() == 1
    message = told.get()
    assert message.recipient == buyer
    assert message.key.startswith(f"run-cancelled-moved:{doomed.pk}:{account.pk}")
    assert message.context["run_reference"] == doomed.reference
    assert [(row["old_date"], row["new_date"]) for row in message.context["lines"]] == [
        (given.isoformat(), new_date.isoformat())
    ]
    assert_counters()
    # and a repeat cancels and tells nothing more
    run_cancel(run=doomed, reason="Factory closed", user=planner)
    assert messages("eta_moved").count() == 1


def test_a_cancelled_run_moving_a_line_earlier_tells_nothing(account, buyer, warehouse, planner):
    sku = SKUFactory()
    doomed = run_with(skus=[sku], warehouse=warehouse, quantity=20, eta_days=30)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=doomed, quantity=6)
    run_with(skus=[sku], warehouse=warehouse, quantity=20, eta_days=10)
    given = line.communicated_date
    run_cancel(run=doomed, reason="Factory closed", user=planner)
    line.refresh_from_db()
    assert line.communicated_date == given
    assert not messages("eta_moved").exists()


def test_a_fair_fill_swap_pushing_a_younger_line_later_tells_it(account, buyer, warehouse, planner):
    sku = SKUFactory()
    late = run_with(skus=[sku], warehouse=warehouse, quantity=50, eta_days=30)
    older = backordered_line(account=account, buyer=buyer, sku=sku, run=late, quantity=6)
    early = run_with(skus=[sku], warehouse=warehouse, quantity=10, eta_days=10)
    younger = backordered_line(account=account, buyer=buyer, sku=sku, run=early, quantity=10)
    given = younger.communicated_date or younger.promised_date
    # when a count finds 2 pairs: the older order takes them, and its 4 still waiting
    # take the younger's place on the early run, the younger waiting on the late one
    stock_sync(counts=[StockCountRequest(sku.code, 2)], user=planner)
    older.refresh_from_db()
    younger.refresh_from_db()
    assert (older.allocated, older.backordered) == (2, 4)
    assert {p.inbound_line.run_id: p.quantity for p in younger.pegs.all()} == {
        early.pk: 6,
        late.pk: 4,
    }
    new_date = _promised(younger)
    assert new_date > given
    # then the younger line's new date is recorded as told and its store told once
    assert younger.communicated_date == new_date
    told = messages("eta_moved").get()
    assert [(row["order_number"], row["new_date"]) for row in told.context["lines"]] == [
        (younger.order.number, new_date.isoformat())
    ]
    assert_counters()

import pytest

from backorders.exceptions import BackorderInputError, RunNotReceivable
from backorders.services import ReceiveRequest, run_receive
from inventory.models import InboundStatus, StockLevel
from orders.models import Allocation
from tests.backorders.helpers import (
    assert_counters,
    assert_split,
    backordered_line,
    messages,
    run_with,
)
from tests.factories import AccountFactory, MembershipFactory, SKUFactory, StaffFactory


@pytest.fixture
def sku(db):
    return SKUFactory()


def test_receipt_fills_oldest_orders_first_then_ats(account, buyer, other_buyer, warehouse, sku):
    # given three orders waiting on a run of 100, oldest first
    run = run_with(skus=[sku], warehouse=warehouse, quantity=100)
    first = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=10)
    second = backordered_line(
        account=other_buyer.memberships.get().account,
        buyer=other_buyer,
        sku=sku,
        run=run,
        quantity=12,
    )
    third = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=8)
    # when 15 pairs arrive
    result = run_receive(run=run, user=StaffFactory(), lines=[ReceiveRequest(sku.code, 15)])
    # then the oldest order is filled completely, the next partly, the newest not at all
    for line in (first, second, third):
        line.refresh_from_db()
    assert (first.allocated, first.backordered) == (10, 0)
    assert (second.allocated, second.backordered) == (5, 7)
    assert (third.allocated, third.backordered) == (0, 8)
    assert first.window_end is None
    level = StockLevel.objects.get(sku=sku, warehouse=warehouse)
    assert (level.on_hand, level.allocated) == (15, 15)
    inbound = run.lines.get()
    assert (inbound.received, inbound.promised) == (15, 15)
    assert result.filled == {sku.code: 15}
    run.refresh_from_db()
    assert run.status == InboundStatus.CONFIRMED
    for line in (first, second, third):
        assert_split(line)
    assert_counters()


def test_full_receipt_fills_everything_rest_is_ats_and_run_is_received(
    account, buyer, warehouse, sku
):
    run = run_with(skus=[sku], warehouse=warehouse, quantity=40)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=10)
    run_receive(run=run, user=StaffFactory())
    line.refresh_from_db()
    assert (line.allocated, line.backordered) == (10, 0)
    assert Allocation.objects.get(line=line).quantity == 10
    level = StockLevel.objects.get(sku=sku, warehouse=warehouse)
    assert level.on_hand == 40
    assert level.ats == 30
    run.refresh_from_db()
    assert run.status == InboundStatus.RECEIVED
    assert_counters()


def test_receipt_tells_each_account_once_and_is_idempotent_with_a_key(
    account, buyer, second_buyer, warehouse, sku
):
    run = run_with(skus=[sku], warehouse=warehouse, quantity=40)
    other = SKUFactory()
    run.lines.create(sku=other, quantity=40)
    backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=10)
    backordered_line(account=account, buyer=buyer, sku=other, run=run, quantity=6)
    staff = StaffFactory()
    first = run_receive(run=run, user=staff, key="rcv-1")
    again = run_receive(run=run, user=staff, key="rcv-1")
    assert first.created
    assert not again.created
    assert again.receipt.pk == first.receipt.pk
    filled = messages("backorder_filled")
    # one message per account (one row per recipient: two buyers)
    assert filled.count() == 2
    assert {m.key for m in filled} == {
        f"filled:{first.receipt.pk}:{account.pk}:{u.pk}" for u in (buyer, second_buyer)
    }
    context = filled.first().context
    assert {row["sku"] for row in context["lines"]} == {sku.code, other.code}
    assert context["run_reference"] == run.reference
    # receiving again when everything arrived changes nothing
    assert run_receive(run=run, user=staff).receipt is None
    assert StockLevel.objects.get(sku=sku, warehouse=warehouse).on_hand == 40


def test_receipt_bad_rows_name_the_row_and_change_nothing(account, buyer, warehouse, sku):
    run = run_with(skus=[sku], warehouse=warehouse, quantity=20)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=10)
    with pytest.raises(BackorderInputError) as caught:
        run_receive(
            run=run,
            user=StaffFactory(),
            lines=[
                ReceiveRequest(sku.code, 5),
                ReceiveRequest("NOPE", 1),
                ReceiveRequest(sku.code, 99),
            ],
        )
    errors = caught.value.message_dict
    assert "lines[1].sku" in errors
    assert "lines[2].sku" in errors or "lines[2].quantity" in errors
    with pytest.raises(BackorderInputError) as caught:
        run_receive(run=run, user=StaffFactory(), lines=[ReceiveRequest(sku.code, 21)])
    assert "lines[0].quantity" in caught.value.message_dict
    line.refresh_from_db()
    assert line.backordered == 10
    assert run.lines.get().received == 0


def test_cancelled_run_cannot_be_received(warehouse, sku):
    run = run_with(skus=[sku], warehouse=warehouse, status=InboundStatus.CANCELLED)
    with pytest.raises(RunNotReceivable):
        run_receive(run=run, user=StaffFactory())


def test_accounts_without_members_get_no_message_but_are_filled(warehouse, sku, terms):
    account = AccountFactory()
    buyer = MembershipFactory(account=account).user
    run = run_with(skus=[sku], warehouse=warehouse)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=7)
    buyer.memberships.all().delete()
    run_receive(run=run, user=StaffFactory())
    line.refresh_from_db()
    assert line.allocated == 7
    assert not messages("backorder_filled").exists()

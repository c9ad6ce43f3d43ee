import datetime as dt
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backorders.models import AutoCancellation, DecisionRequest, DecisionStatus
from backorders.services import backorder_sweep, backorder_sweep_all, decision_expire, eta_change
from backorders.tasks import backorder_sweep_task
from orders.exceptions import OrderInputError
from orders.models import DecisionDefault, Order, OrderLine
from tests.backorders.helpers import (
    assert_counters,
    assert_split,
    backordered_line,
    messages,
    run_with,
    today,
)
from tests.conftest import concurrent
from tests.factories import AccountFactory, MembershipFactory, ShipToFactory, SKUFactory


def _past_window(lines, days=1):
    OrderLine.objects.filter(pk__in=[line.pk for line in lines]).update(
        window_end=today() - dt.timedelta(days=days)
    )


def _accounts_with_lines(warehouse, count=3, per_account=2):
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, quantity=500)
    lines = []
    for _ in range(count):
        account = AccountFactory()
        ShipToFactory(account=account)
        buyer = MembershipFactory(account=account).user
        for _ in range(per_account):
            lines.append(
                backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=3)
            )
    return run, lines


def test_a_line_past_its_window_never_stays_backordered_past_the_sweep(account, buyer, warehouse):
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse)
    late = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=5)
    on_time = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=2)
    _past_window([late])
    result = backorder_sweep_all()
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert (late.backordered, late.cancelled) == (0, 5)
    assert "backorder window" in late.cancel_reason
    assert on_time.backordered == 2
    assert result.lines_cancelled == 1
    assert not OrderLine.objects.filter(backordered__gt=0, window_end__lt=today()).exists()
    notice = messages("auto_cancel").get()
    assert notice.key == f"sweep:{today().isoformat()}:{account.pk}:{buyer.pk}"
    assert [row["quantity"] for row in notice.context["lines"]] == [5]
    assert_split(late)
    assert_counters()


def test_sweep_twice_gives_the_same_state_and_one_message_per_account(warehouse, terms):
    _, lines = _accounts_with_lines(warehouse, count=3)
    _past_window(lines)
    backorder_sweep_all(batch_size=2)
    state = list(OrderLine.objects.order_by("pk").values_list("backordered", "cancelled"))
    again = backorder_sweep_all(batch_size=2)
    assert again.lines_cancelled == 0
    assert again.accounts_told == 0
    assert list(OrderLine.objects.order_by("pk").values_list("backordered", "cancelled")) == state
    assert messages("auto_cancel").count() == 3
    assert all(len(m.context["lines"]) == 2 for m in messages("auto_cancel"))


def test_a_crash_between_batches_is_finished_by_the_next_sweep(warehouse, terms):
    _, lines = _accounts_with_lines(warehouse, count=2, per_account=3)
    _past_window(lines)
    # one batch only, then the worker dies
    first = backorder_sweep(batch_size=2)
    assert first.more
    assert first.lines_cancelled == 2
    assert not messages("auto_cancel").exists()  # nobody is told half a story
    # the next sweep finishes the job
    backorder_sweep_all(batch_size=2)
    assert not OrderLine.objects.filter(backordered__gt=0).exists()
    assert messages("auto_cancel").count() == 2
    assert sorted(len(m.context["lines"]) for m in messages("auto_cancel")) == [3, 3]
    assert AutoCancellation.objects.filter(notice_key="").count() == 0


@concurrent
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_split_the_work_and_tell_each_account_once(warehouse, terms):
    _, lines = _accounts_with_lines(warehouse, count=4, per_account=3)
    _past_window(lines)
    barrier = threading.Barrier(2)
    errors = []

    def sweep():
        try:
            barrier.wait()
            backorder_sweep_all(batch_size=2)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert not OrderLine.objects.filter(backordered__gt=0).exists()
    assert OrderLine.objects.filter(cancelled=3).count() == 12
    assert AutoCancellation.objects.count() == 12
    assert messages("auto_cancel").count() == 4
    assert all(len(m.context["lines"]) == 3 for m in messages("auto_cancel"))
    assert_counters()


def test_lines_waiting_for_a_decision_are_left_to_the_deadline_then_the_default_applies(
    account, buyer, warehouse
):
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=5)
    eta_change(run=run, new_eta=today() + dt.timedelta(days=80), reason="Factory", user=None)
    _past_window([line])
    backorder_sweep_all()
    line.refresh_from_db()
    assert line.backordered == 5  # the retailer still has time to answer
    # the deadline passes without an answer: the account's default (cancel) applies
    later = DecisionRequest.objects.get().deadline + dt.timedelta(days=1)
    backorder_sweep_all(today=later)
    line.refresh_from_db()
    assert (line.backordered, line.cancelled) == (0, 5)
    request = DecisionRequest.objects.get()
    assert request.status == DecisionStatus.DEFAULTED
    assert request.action == "cancel"
    notice = messages("auto_cancel").get()
    assert notice.key.startswith(f"sweep:{later.isoformat()}:{account.pk}:")


def test_an_account_that_said_keep_keeps_when_it_does_not_answer(account, buyer, warehouse):
    account.decision_default = DecisionDefault.KEEP
    account.save()
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=5)
    eta_change(run=run, new_eta=today() + dt.timedelta(days=80), reason="Factory", user=None)
    request = DecisionRequest.objects.get()
    result = decision_expire(today=request.deadline + dt.timedelta(days=1))
    assert result.decisions_defaulted == 1
    line.refresh_from_db()
    assert line.backordered == 5
    assert line.window_end >= request.new_date
    request.refresh_from_db()
    assert (request.status, request.action) == (DecisionStatus.DEFAULTED, "keep")
    # and the sweep on that day leaves it alone
    backorder_sweep_all(today=request.deadline + dt.timedelta(days=1))
    line.refresh_from_db()
    assert line.backordered == 5


def test_invariant_no_backorder_on_an_ineligible_sku_and_none_past_its_window(
    account, buyer, warehouse
):
    from inventory.models import Replenishment
    from tests.factories import StyleFactory

    seasonal = SKUFactory(style=StyleFactory(replenishment=Replenishment.SEASONAL))
    committed = SKUFactory()
    run = run_with(skus=[seasonal, committed], warehouse=warehouse, eta_days=14)
    far = run_with(skus=[committed], warehouse=warehouse, eta_days=200)
    not_eligible = backordered_line(account=account, buyer=buyer, sku=seasonal, run=run)
    assert not_eligible.backordered == 0
    eligible = backordered_line(account=account, buyer=buyer, sku=committed, run=run, quantity=100)
    # a fill-in of nothing but pairs that cannot be had is refused: none are backordered
    with pytest.raises(OrderInputError, match="cannot be had"):  # only a run past the window
        backordered_line(account=account, buyer=buyer, sku=committed, run=far, quantity=5)
    # the global check: every backordered line is on a committed style and its pegs' run
    # ships inside its window (or a decision about it is pending)
    from orders.selectors import line_expected_dates

    backordered = list(OrderLine.objects.filter(backordered__gt=0).select_related("sku__style"))
    assert [line.pk for line in backordered] == [eligible.pk]
    expected = line_expected_dates(lines=backordered)
    for line in backordered:
        assert line.sku.style.replenishment == Replenishment.COMMITTED
        assert expected[line.pk] <= line.window_end


def test_sweep_task_requeues_itself_while_work_remains(warehouse, terms, monkeypatch):
    _, lines = _accounts_with_lines(warehouse, count=1, per_account=3)
    _past_window(lines)
    queued = []
    monkeypatch.setattr(
        backorder_sweep_task, "apply_async", lambda *a, **kw: queued.append(kw) or None
    )
    summary = backorder_sweep_task.run(batch_size=2)
    assert summary["more"] is True
    assert queued == [{"kwargs": {"batch_size": 2}}]
    while queued:
        queued.pop()
        backorder_sweep_task.run(batch_size=2)
    assert not OrderLine.objects.filter(backordered__gt=0).exists()
    assert messages("auto_cancel").count() == 1


def test_one_batch_cancels_each_line_with_its_own_reason(account, buyer, warehouse):
    # given two lines of one account in one batch: one past its order's cancel date, one
    # past the backorder window
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse)
    by_date = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=2)
    by_window = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=3)
    _past_window([by_date, by_window])
    cancel_date = today() - dt.timedelta(days=2)
    Order.objects.filter(pk=by_date.order_id).update(cancel_date=cancel_date)
    # when
    result = backorder_sweep(batch_size=10)
    # then
    assert result.lines_cancelled == 2
    by_date.refresh_from_db()
    by_window.refresh_from_db()
    date_reason = f"Past your order's cancel date ({cancel_date.isoformat()})"
    assert by_date.cancel_reason == date_reason
    assert by_window.cancel_reason == "Past your 45-day backorder window"
    assert dict(AutoCancellation.objects.values_list("line_id", "reason")) == {
        by_date.pk: date_reason,
        by_window.pk: "Past your 45-day backorder window",
    }
    backorder_sweep_all()
    notice = messages("auto_cancel").get()
    assert notice.context["reason"] == f"{date_reason}; Past your 45-day backorder window"
    assert_counters()


def test_an_account_with_its_own_window_is_told_its_own_days(warehouse):
    # given two accounts' lines past their windows: one on the terms' 45 days, one whose
    # account has a window of its own
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse)
    lines = {}
    for days in (None, 30):
        account = AccountFactory(backorder_window_days=days)
        ShipToFactory(account=account)
        buyer = MembershipFactory(account=account).user
        lines[days] = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=2)
    _past_window(lines.values())
    # when
    backorder_sweep(batch_size=10)
    # then
    assert dict(AutoCancellation.objects.values_list("line_id", "reason")) == {
        lines[None].pk: "Past your 45-day backorder window",
        lines[30].pk: "Past your 30-day backorder window",
    }


def test_the_sweep_takes_the_earliest_windows_first(account, buyer, warehouse):
    sku = SKUFactory()
    run = run_with(skus=[sku], warehouse=warehouse)
    recent = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=2)
    oldest = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=3)
    _past_window([recent], days=1)
    _past_window([oldest], days=9)

    backorder_sweep(batch_size=1)

    assert list(OrderLine.objects.filter(backordered__gt=0).values_list("pk", flat=True)) == [
        recent.pk
    ]


def _queries_of(function, **kwargs):
    with CaptureQueriesContext(connection) as captured:
        function(**kwargs)
    return len(captured)


def test_a_sweep_batch_and_the_messages_cost_the_same_queries_for_more_accounts(warehouse, terms):
    # given a first round of 2 accounts with 2 lines each
    _, lines = _accounts_with_lines(warehouse, count=2, per_account=2)
    _past_window(lines)
    small = _queries_of(backorder_sweep, batch_size=100)
    small_notify = _queries_of(backorder_sweep, batch_size=100)
    assert messages("auto_cancel").count() == 2
    # when 5 more accounts with 3 lines each are swept the next day
    _, lines = _accounts_with_lines(warehouse, count=5, per_account=3)
    _past_window(lines, days=0)
    tomorrow = today() + dt.timedelta(days=1)
    large = _queries_of(backorder_sweep, today=tomorrow, batch_size=100)
    large_notify = _queries_of(backorder_sweep, today=tomorrow, batch_size=100)
    # then each step ran the same number of queries
    assert OrderLine.objects.filter(cancelled=3).count() == 4 + 15
    assert messages("auto_cancel").count() == 7
    assert (large, large_notify) == (small, small_notify)
    # and no more than a batch and a message run cost today
    assert small <= 11  # the orders' totals: one read of each with its lines' sums
    assert small_notify <= 15

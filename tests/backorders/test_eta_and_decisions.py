import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backorders.exceptions import AlreadyDecided, AlternativeUnavailable, BackorderInputError
from backorders.models import DecisionRequest, DecisionStatus
from backorders.promise_report import pairs_past_window
from backorders.services import (
    backorder_decide,
    backorder_sweep_all,
    decision_expire,
    eta_change,
    run_cancel,
)
from inventory.models import EtaChange, InboundStatus, StockLevel
from orders.models import OrderLine
from orders.selectors import line_expected_dates
from tests.backorders.helpers import (
    assert_counters,
    assert_split,
    backordered_line,
    messages,
    run_with,
    sku_in_stock,
    today,
)
from tests.factories import (
    AccountFactory,
    MembershipFactory,
    ShipToFactory,
    SKUFactory,
    StaffFactory,
    StyleFactory,
)


@pytest.fixture
def style(db):
    return StyleFactory()


@pytest.fixture
def sku(style):
    return SKUFactory(style=style, color="Black")


def test_eta_change_inside_window_moves_dates_and_sends_one_digest_per_account(
    account, buyer, warehouse, sku
):
    # given two lines of one account waiting on a run due in 14 days (45-day window)
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    other_sku = SKUFactory(style=sku.style, color="Brown")
    run.lines.create(sku=other_sku, quantity=50)
    first = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=4)
    second = backordered_line(account=account, buyer=buyer, sku=other_sku, run=run, quantity=3)
    old_date = first.communicated_date
    # when the run slips a week, still inside the window
    result = eta_change(
        run=run, new_eta=today() + dt.timedelta(days=21), reason="Port congestion", user=None
    )
    # then the expected dates follow the run (derived), communicated dates are updated
    first.refresh_from_db()
    expected = line_expected_dates(lines=[first])[first.pk]
    assert expected > old_date
    assert first.communicated_date == expected
    assert sorted(result.moved) == sorted([first.pk, second.pk])
    assert not DecisionRequest.objects.exists()
    digest = messages("eta_moved")
    assert digest.count() == 1  # one account, one buyer: one message listing both lines
    context = digest.get().context
    assert len(context["lines"]) == 2
    assert context["lines"][0]["old_date"] == old_date.isoformat()
    assert context["new_eta"] == (today() + dt.timedelta(days=21)).isoformat()
    assert EtaChange.objects.get(run=run).reason == "Port congestion"


def test_eta_change_outside_window_asks_for_a_decision_with_alternatives(
    account, buyer, second_buyer, warehouse, sku
):
    alternative = sku_in_stock(
        warehouse=warehouse, style=sku.style, color="Navy", size=sku.size, width=sku.width
    )
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=5)
    eta_change(run=run, new_eta=today() + dt.timedelta(days=80), reason="Factory", user=None)
    request = DecisionRequest.objects.get(line=line)
    assert request.status == DecisionStatus.PENDING
    assert request.deadline == today() + dt.timedelta(days=line.order.terms.decision_deadline_days)
    assert request.new_date > line.window_end
    assert [alt["sku"] for alt in request.alternatives] == [alternative.code]
    sent = messages("decision_request")
    assert sent.count() == 2  # one per buyer, each with their own signed links
    urls = {m.context["decide_url"] for m in sent}
    assert len(urls) == 2
    assert [row["sku"] for row in sent[0].context["lines"][0]["alternatives"]] == [alternative.code]
    assert not messages("eta_moved").exists()


def test_eta_change_is_told_once_even_if_repeated_and_needs_a_reason(
    account, buyer, warehouse, sku
):
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=5)
    new_eta = today() + dt.timedelta(days=20)
    eta_change(run=run, new_eta=new_eta, reason="Late fabric", user=None)
    with pytest.raises(ValidationError) as caught:
        eta_change(run=run, new_eta=new_eta, reason="Late fabric", user=None)
    assert "eta" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        eta_change(run=run, new_eta=new_eta + dt.timedelta(days=1), reason=" ", user=None)
    assert "reason" in caught.value.message_dict
    assert EtaChange.objects.filter(run=run).count() == 1
    assert messages("eta_moved").count() == 1


def test_decide_keep_extends_the_window_to_the_new_date(account, buyer, warehouse, sku):
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=5)
    eta_change(run=run, new_eta=today() + dt.timedelta(days=80), reason="Factory", user=None)
    result = backorder_decide(line=line, action="keep", user=buyer)
    line.refresh_from_db()
    assert line.window_end == line_expected_dates(lines=[line])[line.pk]
    assert result.request.status == DecisionStatus.KEPT
    assert result.request.decided_by == buyer
    assert line.backordered == 5


def test_decide_cancel_releases_the_promise(account, buyer, warehouse, sku):
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=5)
    backorder_decide(line=line, action="cancel", user=buyer)
    line.refresh_from_db()
    assert (line.backordered, line.cancelled) == (0, 5)
    assert run.lines.get().promised == 0
    assert_split(line)
    assert_counters()


def test_decide_switch_allocates_the_alternative_on_the_same_order(account, buyer, warehouse, sku):
    alternative = sku_in_stock(
        warehouse=warehouse, style=sku.style, color="Navy", size=sku.size, width=sku.width
    )
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=5)
    eta_change(run=run, new_eta=today() + dt.timedelta(days=80), reason="Factory", user=None)
    result = backorder_decide(line=line, action="switch", sku=alternative.code, user=buyer)
    new_line = result.new_line
    assert new_line.order_id == line.order_id
    assert new_line.substitute_for_id == line.pk
    assert (new_line.quantity, new_line.allocated) == (5, 5)
    line.refresh_from_db()
    assert (line.backordered, line.cancelled) == (0, 5)
    assert StockLevel.objects.get(sku=alternative).allocated == 5
    assert DecisionRequest.objects.get(line=line).status == DecisionStatus.SWITCHED
    assert_split(line)
    assert_split(new_line)
    assert_counters()


def test_switch_to_an_alternative_that_sold_out_fails_and_changes_nothing(
    account, buyer, warehouse, sku
):
    alternative = sku_in_stock(
        warehouse=warehouse,
        style=sku.style,
        color="Navy",
        size=sku.size,
        width=sku.width,
        on_hand=5,
    )
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=5)
    eta_change(run=run, new_eta=today() + dt.timedelta(days=80), reason="Factory", user=None)
    # the alternative sells out in the meantime
    StockLevel.objects.filter(sku=alternative).update(allocated=3)
    lines_before = OrderLine.objects.count()
    with pytest.raises(AlternativeUnavailable):
        backorder_decide(line=line, action="switch", sku=alternative.code, user=buyer)
    line.refresh_from_db()
    assert (line.backordered, line.cancelled) == (5, 0)
    assert OrderLine.objects.count() == lines_before
    assert run.lines.get().promised == 5
    assert StockLevel.objects.get(sku=alternative).allocated == 3
    assert DecisionRequest.objects.get(line=line).status == DecisionStatus.PENDING


def test_switch_to_a_sku_that_is_not_an_alternative_is_refused(account, buyer, warehouse, sku):
    unrelated = sku_in_stock(warehouse=warehouse)
    run = run_with(skus=[sku], warehouse=warehouse)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=5)
    with pytest.raises(BackorderInputError) as caught:
        backorder_decide(line=line, action="switch", sku=unrelated.code, user=buyer)
    assert "sku" in caught.value.message_dict
    with pytest.raises(BackorderInputError) as caught:
        backorder_decide(line=line, action="maybe", user=buyer)
    assert "action" in caught.value.message_dict
    line.refresh_from_db()
    assert line.backordered == 5


def test_configured_alternative_styles_are_offered(account, buyer, warehouse, sku):
    other_style = StyleFactory()
    sku.style.alternatives.add(other_style)
    offered = sku_in_stock(
        warehouse=warehouse, style=other_style, color="Grey", size=sku.size, width=sku.width
    )
    sku_in_stock(warehouse=warehouse, style=other_style, color="Red", size=sku.size + 1)
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=5)
    eta_change(run=run, new_eta=today() + dt.timedelta(days=80), reason="Factory", user=None)
    assert [a["sku"] for a in DecisionRequest.objects.get(line=line).alternatives] == [offered.code]


def test_deciding_twice_on_a_request_is_refused(account, buyer, warehouse, sku):
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=5)
    eta_change(run=run, new_eta=today() + dt.timedelta(days=80), reason="Factory", user=None)
    request = DecisionRequest.objects.get(line=line)
    backorder_decide(line=line, action="keep", user=buyer, decision_request=request)
    with pytest.raises(AlreadyDecided):
        backorder_decide(line=line, action="cancel", user=buyer, decision_request=request)
    line.refresh_from_db()
    assert line.backordered == 5


def test_cancelled_run_repegs_inside_the_window_or_cancels_with_alternatives(
    account, buyer, warehouse, sku
):
    other = SKUFactory(style=sku.style, color="Tan")
    alternative = sku_in_stock(
        warehouse=warehouse, style=sku.style, color="Navy", size=other.size, width=other.width
    )
    run = run_with(skus=[sku, other], warehouse=warehouse, eta_days=10)
    later = run_with(skus=[sku], warehouse=warehouse, eta_days=20, quantity=50)
    # the later run must not take the first order at placement: fill it after placing
    repegged = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=4)
    cancelled = backordered_line(account=account, buyer=buyer, sku=other, run=run, quantity=3)
    assert repegged.pegs.get().inbound_line.run_id == run.pk
    result = run_cancel(run=run, reason="Factory closed", user=StaffFactory())
    assert result.repegged == [repegged.pk]
    assert result.cancelled == [cancelled.pk]
    repegged.refresh_from_db()
    assert repegged.pegs.get().inbound_line.run_id == later.pk
    cancelled.refresh_from_db()
    assert (cancelled.backordered, cancelled.cancelled) == (0, 3)
    run.refresh_from_db()
    assert run.status == InboundStatus.CANCELLED
    notice = messages("auto_cancel").get()
    assert notice.context["lines"][0]["alternatives"][0]["sku"] == alternative.code
    assert_counters()
    # running it again changes nothing and tells no one twice
    run_cancel(run=run, reason="Factory closed", user=StaffFactory())
    assert messages("auto_cancel").count() == 1


def test_an_eta_change_costs_the_same_queries_for_more_accounts(warehouse, terms):
    def fan_out(accounts):
        sku = SKUFactory()
        run = run_with(skus=[sku], warehouse=warehouse, eta_days=14, quantity=500)
        for _ in range(accounts):
            account = AccountFactory()
            ShipToFactory(account=account)
            buyer = MembershipFactory(account=account).user
            for _ in range(2):
                backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=2)
        with CaptureQueriesContext(connection) as captured:
            result = eta_change(
                run=run, new_eta=today() + dt.timedelta(days=21), reason="Port", user=None
            )
        assert (len(result.moved), result.accounts_told) == (2 * accounts, accounts)
        return len(captured)

    fan_out(1)  # warms the caches a first call fills (content types for the audit trail)
    # the same for 2 accounts as for 5, and no more than the fan-out costs today (the
    # line lock reads the lines' orders, accounts, terms, SKUs and styles once each, and
    # the re-peg reads the lines it reaches again once it holds the inbound lines)
    assert fan_out(2) == fan_out(5) <= 32
    assert messages("eta_moved").count() == 8


def test_a_decision_asked_near_the_window_end_is_due_by_it(account, buyer, warehouse, sku):
    # given a backorder whose window ends in two days
    run = run_with(skus=[sku], warehouse=warehouse, eta_days=14)
    line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=5)
    window_end = today() + dt.timedelta(days=2)
    OrderLine.objects.filter(pk=line.pk).update(window_end=window_end)

    # when its run slips past the window and nobody answers
    eta_change(run=run, new_eta=today() + dt.timedelta(days=30), reason="Factory", user=None)
    request = DecisionRequest.objects.get(line=line)
    day_after = window_end + dt.timedelta(days=1)
    decision_expire(today=day_after)
    backorder_sweep_all(today=day_after)

    # then the question was due by the window end, and no pair outlives the window
    assert request.deadline == window_end
    assert pairs_past_window(today=day_after) == 0

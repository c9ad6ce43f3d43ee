"""Overdue runs: found every morning, confirmed by a planner in one action, or moved by
the system after the grace period; expected dates never slide without a recorded ETA
change."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from backorders.models import OverdueRun
from backorders.services import eta_change, overdue_runs_check
from backorders.services.overdue import OVERDUE_REASON
from backorders.tasks import overdue_runs_check_task
from inventory.calendar import add_business_days
from inventory.models import EtaChange, InboundStatus
from orders.selectors import line_expected_dates
from tests.backorders.helpers import backordered_line, messages, run_with
from tests.factories import SKUFactory, StaffFactory

# A Monday: the grace period counts business days.
MONDAY = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)


@pytest.fixture
def sku(db):
    return SKUFactory()


def _late_run(*, account, buyer, warehouse, sku, eta_days=3):
    """A run due `eta_days` after MONDAY with a backorder of the account pegged to it."""
    with time_machine.travel(MONDAY, tick=False):
        run = run_with(skus=[sku], warehouse=warehouse, eta_days=eta_days)
        line = backordered_line(account=account, buyer=buyer, sku=sku, run=run, quantity=6)
    return run, line


@pytest.fixture
def overdue_planner(planner):
    planner.user_permissions.add(Permission.objects.get(codename="view_overduerun"))
    return planner


def _day(offset):
    return MONDAY + dt.timedelta(days=offset)


def test_expected_dates_never_slide_without_a_recorded_eta_change(account, buyer, warehouse, sku):
    # given a run due Thursday with a backorder waiting on it
    run, line = _late_run(account=account, buyer=buyer, warehouse=warehouse, sku=sku)
    seen = []
    # when the run never arrives and the morning job runs every day for two weeks
    for offset in range(1, 15):
        with time_machine.travel(_day(offset), tick=False):
            overdue_runs_check()
            date = line_expected_dates(lines=[line])[line.pk]
            changes = EtaChange.objects.filter(run=run).count()
        seen.append((date, changes))
    # then the date only moves on a day an ETA change was recorded
    for (before, changes_before), (after, changes_after) in zip(seen, seen[1:], strict=False):
        assert before == after or changes_after > changes_before
    # and one change was recorded, by the system, with the overdue reason
    change = EtaChange.objects.get(run=run)
    assert change.reason == OVERDUE_REASON
    assert change.changed_by is None


def test_overdue_run_is_recorded_then_moved_after_the_grace_period(
    account, buyer, warehouse, sku, terms
):
    run, line = _late_run(account=account, buyer=buyer, warehouse=warehouse, sku=sku)
    eta = run.eta  # Thursday
    grace_end = add_business_days(eta, terms.overdue_grace_business_days)  # Monday
    # the day after the ETA it is overdue, but nothing is moved yet
    with time_machine.travel(_day(4), tick=False):
        result = overdue_runs_check()
    assert result.detected == [run.pk]
    assert result.changed == []
    overdue = OverdueRun.objects.get(run=run)
    assert (overdue.eta, overdue.eta_change) == (eta, None)
    # on the last day of the grace period it still waits for the planner
    with time_machine.travel(dt.datetime.combine(grace_end, dt.time(7), tzinfo=dt.UTC)):
        assert overdue_runs_check().changed == []
    # the next morning the system records the change: today plus the factory's delay
    next_day = grace_end + dt.timedelta(days=1)
    with time_machine.travel(dt.datetime.combine(next_day, dt.time(7), tzinfo=dt.UTC)):
        result = overdue_runs_check()
        again = overdue_runs_check()
    assert result.changed == [run.pk]
    assert again.changed == []  # idempotent: a second run changes nothing
    run.refresh_from_db()
    assert run.eta == next_day + dt.timedelta(days=terms.factory_delay_days)
    change = EtaChange.objects.get(run=run)
    overdue.refresh_from_db()
    assert overdue.eta_change == change
    # through the normal path: the retailer is told of the new date
    told = messages("eta_moved").get()
    assert told.context["reason"] == OVERDUE_REASON
    assert told.context["new_eta"] == run.eta.isoformat()


def test_a_planners_confirmation_resolves_it_and_the_job_leaves_it_alone(
    account, buyer, warehouse, sku, terms
):
    run, _ = _late_run(account=account, buyer=buyer, warehouse=warehouse, sku=sku)
    planner = StaffFactory()
    with time_machine.travel(_day(4), tick=False):
        overdue_runs_check()
        eta_change(
            run=run,
            new_eta=timezone.localdate() + dt.timedelta(days=2),
            reason="Factory confirmed: on the truck Monday",
            user=planner,
        )
    with time_machine.travel(_day(8), tick=False):
        result = overdue_runs_check()
    first, second = OverdueRun.objects.filter(run=run).order_by("eta")
    assert first.eta_change.changed_by == planner
    # the confirmed ETA (day 6) has passed too by day 8: a new overdue, in its grace period
    assert result.detected == [run.pk]
    assert (second.eta, second.eta_change) == (run.eta, None)
    assert EtaChange.objects.filter(run=run, changed_by=planner).count() == 1


def test_received_and_cancelled_runs_are_not_overdue(account, buyer, warehouse, sku):
    run, _ = _late_run(account=account, buyer=buyer, warehouse=warehouse, sku=sku)
    run.status = InboundStatus.RECEIVED
    run.save(update_fields=["status"])
    with time_machine.travel(_day(20), tick=False):
        result = overdue_runs_check()
    assert (result.detected, result.changed) == ([], [])
    assert not EtaChange.objects.filter(run=run).exists()


def test_the_job_never_overrides_a_change_made_after_it_read_the_run(
    account, buyer, warehouse, sku
):
    run, _ = _late_run(account=account, buyer=buyer, warehouse=warehouse, sku=sku)
    passed = run.eta
    with time_machine.travel(_day(4), tick=False):
        overdue_runs_check()
    with time_machine.travel(_day(10), tick=False):
        # a planner's change lands between the job's read and its write
        eta_change(run=run, new_eta=timezone.localdate(), reason="Arrives today", user=None)
        skipped = eta_change(
            run=run,
            new_eta=timezone.localdate() + dt.timedelta(days=7),
            reason=OVERDUE_REASON,
            user=None,
            only_if_eta=passed,
        )
    assert skipped is None
    assert list(EtaChange.objects.filter(run=run).values_list("reason", flat=True)) == [
        "Arrives today"
    ]


def test_the_task_reports_what_it_did(account, buyer, warehouse, sku):
    _late_run(account=account, buyer=buyer, warehouse=warehouse, sku=sku)
    with time_machine.travel(_day(4), tick=False):
        assert overdue_runs_check_task.run() == {"detected": 1, "changed": 0, "waiting": 1}


def test_planner_sees_overdue_runs_and_confirms_a_new_eta_in_one_action(
    client, account, buyer, warehouse, sku, overdue_planner, django_assert_max_num_queries
):
    run, line = _late_run(account=account, buyer=buyer, warehouse=warehouse, sku=sku)
    for other in range(3):
        _late_run(
            account=account, buyer=buyer, warehouse=warehouse, sku=SKUFactory(), eta_days=other
        )
    client.force_login(overdue_planner)
    url = reverse("admin:backorders_overduerun_changelist")
    with time_machine.travel(_day(5), tick=False):
        overdue_runs_check()
        with django_assert_max_num_queries(12):
            page = client.get(url)
        assert page.status_code == 200
        assert run.reference in page.text
        overdue = OverdueRun.objects.get(run=run)
        # the action's form, then its answer
        form = client.post(url, {"action": "confirm_eta", "_selected_action": [overdue.pk]})
        assert "New ETA" in form.text
        new_eta = timezone.localdate() + dt.timedelta(days=4)
        done = client.post(
            url,
            {
                "action": "confirm_eta",
                "_selected_action": [overdue.pk],
                "apply": "1",
                "new_eta": new_eta.isoformat(),
                "reason": "Factory confirmed the new date",
            },
        )
    assert done.status_code == 302
    run.refresh_from_db()
    assert run.eta == new_eta
    overdue.refresh_from_db()
    assert overdue.eta_change.changed_by == overdue_planner
    assert overdue.eta_change.reason == "Factory confirmed the new date"


def test_the_confirm_form_names_a_bad_date(client, account, buyer, warehouse, sku, overdue_planner):
    run, _ = _late_run(account=account, buyer=buyer, warehouse=warehouse, sku=sku)
    client.force_login(overdue_planner)
    with time_machine.travel(_day(5), tick=False):
        overdue_runs_check()
        overdue = OverdueRun.objects.get(run=run)
        page = client.post(
            reverse("admin:backorders_overduerun_changelist"),
            {
                "action": "confirm_eta",
                "_selected_action": [overdue.pk],
                "apply": "1",
                "new_eta": "2020-01-01",
                "reason": "typo",
            },
        )
    assert page.status_code == 200
    assert "The new ETA is in the past." in page.text
    run.refresh_from_db()
    assert not EtaChange.objects.filter(run=run).exists()

"""ETA changes and cancelled runs: the pegged lines' dates move with their run (they are
derived); the retailers are told early, once per account per change, and lines pushed
past their window get a decision request."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from backorders.locks import pending_decisions_lock
from backorders.memory import collector_paused
from backorders.models import CancelSource, DecisionRequest, DecisionStatus, OverdueRun
from backorders.services.common import (
    alternative_skus,
    alternatives_offer,
    backorders_cancel,
    cancellations_mark_told,
    iso,
    message_line,
    orders_url,
    recipients_by_account,
)
from backorders.services.notices import eta_change_notify
from inventory import locks as inventory_locks
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from inventory.exceptions import InventoryInputError
from inventory.models import EtaChange, InboundLine, InboundRun, InboundStatus
from notifications.kinds import MessageKind
from notifications.services import OutgoingMessage, messages_enqueue
from orders import ledger
from orders.audit import audit_record
from orders.models import BackorderPeg, CaseStatus
from orders.selectors import line_promises, run_lines_pegs
from orders.services.moves import moved_lines_tell


@dataclass
class EtaChangeResult:
    eta_change: EtaChange
    moved: list[int] = field(default_factory=list)  # line ids still inside their window
    decisions: list[DecisionRequest] = field(default_factory=list)
    accounts_told: int = 0


@collector_paused()
@transaction.atomic(durable=True)
def eta_change(
    *,
    run: InboundRun,
    new_eta: dt.date,
    reason: str,
    user,
    case=None,
    today=None,
    only_if_eta: dt.date | None = None,
):
    """Move a run's ETA: the only way an ETA moves. Every pegged line's expected date
    follows (derived from the run). Lines still inside their window are told; lines
    pushed outside it get a decision request (keep / switch / cancel) with a deadline:
    one message per person of each account (eta_change_notify). The change is in the
    audit trail, on the customer-service case when one is given, and resolves the run's
    overdue record. `only_if_eta`: change nothing (return None) unless the run's ETA is
    still that one, so the overdue job never overrides a planner's confirmation made
    meanwhile. Raises InventoryInputError on bad input."""
    today = today or timezone.localdate()
    if not isinstance(new_eta, dt.date):
        raise InventoryInputError({"eta": ["Enter a date as YYYY-MM-DD."]})
    if case is not None and case.status != CaseStatus.OPEN:
        raise InventoryInputError({"case": [f"Case {case.pk} is resolved; open a new case."]})
    # First the ETA itself, so no placement is pegging to the run unseen: it committed
    # before (its lines are read below) or plans with the new ETA. Then OrderLine (the
    # lines the re-peg can move: ledger.repeg_lines_lock) -> InboundRun.
    sku_ids = set(InboundLine.objects.filter(run_id=run.pk).values_list("sku_id", flat=True))
    inventory_locks.run_eta_lock(run_id=run.pk, sku_ids=sku_ids)
    lines = ledger.repeg_lines_lock(run_id=run.pk, eta=new_eta)
    locked_run = inventory_locks.inbound_run_lock(run_id=run.pk)
    if locked_run is None:
        raise InventoryInputError({"run": ["No such inbound run."]})
    if only_if_eta is not None and locked_run.eta != only_if_eta:
        return None
    change = inventory_services.inbound_run_reschedule(
        run=locked_run, new_eta=new_eta, reason=reason, user=user, today=today
    )
    OverdueRun.objects.filter(run=locked_run, eta_change__isnull=True).update(eta_change=change)
    run.eta = locked_run.eta
    audit_record(
        actor=user,
        action="eta.changed",
        obj=locked_run,
        changes={"eta": [change.old_eta, change.new_eta]},
        reason=change.reason,
        case=case,
    )
    result = EtaChangeResult(change)
    # Lines first move to runs with room that keep their dates (a slip), or onto this
    # run's room (an ETA moving earlier); only the dates that still move are told.
    repegged = ledger.repeg(
        lines=lines, run=locked_run, today=today, leaving=False, sku_ids=sku_ids
    )
    moved, on_run, lines = repegged.moved, repegged.pegged, list(repegged.lines.values())
    old_dates = {
        line.pk: line.communicated_date
        or inventory_selectors.ship_date_from_run(
            eta=change.old_eta if line.pk in on_run else run.eta,
            terms=line.order.terms,
            today=today,
        )
        for line in lines
    }
    candidates = [
        line for line in lines if line.backordered > 0 and (line.pk in on_run or line.pk in moved)
    ]
    # With no line moved, the candidates are the run's lines: their pegs read by the run.
    pegs = None if moved else run_lines_pegs(run_id=locked_run.pk)
    promises = line_promises(lines=candidates, pegs=pegs)
    expected = {line_id: promise.date for line_id, promise in promises.items()}
    lines = [line for line in candidates if expected.get(line.pk) != old_dates[line.pk]]
    if not lines:
        return result
    inside, outside = [], []
    for line in lines:
        new_date = expected[line.pk]
        if line.window_end is not None and new_date > line.window_end:
            outside.append(line)
        elif new_date != old_dates[line.pk]:  # a move inside the factory's usual slip is not news
            inside.append(line)
    pending = {
        request.line_id: request
        for request in pending_decisions_lock(line_ids=[line.pk for line in lines])
    }
    # A new date replaces any question still open about an older one.
    DecisionRequest.objects.filter(pk__in=[r.pk for r in pending.values()]).update(
        status=DecisionStatus.SUPERSEDED
    )
    ledger.dates_told(lines=lines, dates=expected)

    result.moved = [line.pk for line in inside]
    result.decisions = decision_requests_create(
        lines=outside,
        run=locked_run,
        change=change,
        old_dates={
            line.pk: pending[line.pk].old_date if line.pk in pending else old_dates[line.pk]
            for line in outside
        },
        new_dates=expected,
        today=today,
    )
    result.accounts_told = eta_change_notify(
        change=change,
        told=inside,
        asked=result.decisions,
        old_dates=old_dates,
        new_dates=expected,
        bases={line_id: promise.basis for line_id, promise in promises.items()},
    )
    return result


def _lines_on_run(*, run_id) -> set[int]:
    return set(
        BackorderPeg.objects.filter(inbound_line__run_id=run_id).values_list("line_id", flat=True)
    )


@transaction.atomic(savepoint=False)
def decision_requests_create(*, lines, run, change, old_dates, new_dates, today):
    """Ask keep / switch / cancel for each locked line pushed past its window, with the
    alternatives that ship sooner. The caller tells the accounts (eta_change_notify:
    one message per person for the whole change)."""
    if not lines:
        return []
    offers = alternative_skus(lines=lines)
    requests = [
        DecisionRequest(
            line=line,
            run=run,
            eta_change=change,
            quantity=line.backordered,
            old_date=old_dates[line.pk],
            new_date=new_dates[line.pk],
            deadline=decision_deadline(line=line, today=today),
            alternatives=alternatives_offer(
                skus=offers[line.pk], terms=line.order.terms, today=today
            ),
        )
        for line in lines
    ]
    DecisionRequest.objects.bulk_create(requests)
    return requests


def decision_deadline(*, line, today) -> dt.date:
    """The terms' days to answer, but no later than the line's window end: a line is
    never kept past its window without a yes (unanswered, the account's default applies
    the day after)."""
    deadline = today + dt.timedelta(days=line.order.terms.decision_deadline_days)
    if line.window_end is not None:
        deadline = min(deadline, max(line.window_end, today))
    return deadline


# --- Cancelled runs ---------------------------------------------------------------


@dataclass
class RunCancelResult:
    run: InboundRun
    repegged: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)


@collector_paused()
@transaction.atomic(durable=True)
def run_cancel(*, run: InboundRun, reason: str, user, today=None) -> RunCancelResult:
    """Cancel an inbound run. Its pegged backorders move to another open run that still
    ships inside their window when there is room; the rest are cancelled at once and
    each account is told, with the alternatives that ship now."""
    today = today or timezone.localdate()
    reason = (reason or "").strip()
    if not reason:
        raise InventoryInputError({"reason": ["Say why the run is cancelled."]})
    # Lock order: the run's ETA exclusively (no placement pegs to it unseen) with the
    # ETAs of the runs its lines may move to, then OrderLine (the run's lines:
    # ledger.repeg_lines_lock) -> InboundRun -> InboundLine.
    sku_ids = set(InboundLine.objects.filter(run_id=run.pk).values_list("sku_id", flat=True))
    inventory_locks.run_eta_lock(run_id=run.pk, sku_ids=sku_ids)
    lines = ledger.repeg_lines_lock(run_id=run.pk, eta=None)
    locked = inventory_locks.inbound_run_lock(run_id=run.pk)
    if locked.status == InboundStatus.CANCELLED:
        return RunCancelResult(locked)
    if not locked.is_open:
        raise InventoryInputError({"run": [f"Run {locked.reference} is already received."]})
    repegged = ledger.repeg(lines=lines, run=locked, today=today, leaving=True, sku_ids=sku_ids)
    on_run, lines = repegged.pegged, list(repegged.lines.values())
    still_on_run = _lines_on_run(run_id=locked.pk)
    result = RunCancelResult(locked)
    cancel_reason = f"Production run {locked.reference} was cancelled"
    # Lines moved to a later run hear their new date now, before the old one passes.
    moved_lines_tell(
        lines=lines,
        moved=repegged.moved,
        key=f"run-cancelled-moved:{locked.pk}",
        reason=cancel_reason,
        run_reference=locked.reference,
    )
    by_age = sorted(
        (line for line in lines if line.pk in on_run),
        key=ledger.oldest_first,
    )
    result.repegged = [line.pk for line in by_age if line.pk not in still_on_run]
    to_cancel = [line for line in by_age if line.pk in still_on_run]
    offers = alternative_skus(lines=to_cancel)
    records = backorders_cancel(
        lines=to_cancel,
        reason=cancel_reason,
        source=CancelSource.RUN_CANCELLED,
        today=today,
    )
    DecisionRequest.objects.filter(
        line_id__in=[line.pk for line in to_cancel], status=DecisionStatus.PENDING
    ).update(status=DecisionStatus.SUPERSEDED)
    result.cancelled = [line.pk for line in to_cancel]
    locked.status = InboundStatus.CANCELLED
    locked.save(update_fields=["status", "updated_at"])
    _run_cancel_notify(
        run=locked,
        records=records,
        lines=to_cancel,
        offers=offers,
        reason=cancel_reason,
        today=today,
    )
    return result


def _run_cancel_notify(*, run, records, lines, offers, reason, today):
    by_line = {line.pk: line for line in lines}
    by_account = defaultdict(list)
    for record in records:
        by_account[record.account_id].append(record)
    recipients = recipients_by_account(account_ids=by_account)
    prefix = f"run-cancelled:{run.pk}:"
    url = orders_url()
    outgoing = []
    for account_id, account_records in by_account.items():
        account_lines = []
        for record in account_records:
            line = by_line[record.line_id]
            account_lines.append(
                message_line(
                    line,
                    record.quantity,
                    promised_date=iso(line.promised_date),
                    alternatives=alternatives_offer(
                        skus=offers.get(line.pk, []), terms=line.order.terms, today=today
                    ),
                )
            )
        outgoing.append(
            OutgoingMessage(
                key=f"{prefix}{account_id}",
                recipients=recipients.get(account_id, []),
                context={
                    "account_name": by_line[account_records[0].line_id].order.account.name,
                    "reason": reason,
                    "lines": account_lines,
                    "orders_url": url,
                },
            )
        )
    messages_enqueue(kind=MessageKind.AUTO_CANCEL, messages=outgoing)
    cancellations_mark_told(record_ids=[record.pk for record in records], key_prefix=prefix)

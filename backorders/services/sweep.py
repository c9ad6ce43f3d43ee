"""The daily sweep and the decision deadlines: no backorder outlives its window, no
question goes unanswered past its deadline, and each account is told once a day.

Each call does one batch in one transaction and says whether more remains; the Celery
task re-queues itself until nothing does. Rows are taken with SKIP LOCKED and the state
test sits in the WHERE clause, so two sweeps at once split the work, a re-run finds
nothing to do, and a crash between batches loses nothing."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from backorders import locks
from backorders.models import (
    AutoCancellation,
    CancelSource,
    DecisionAction,
    DecisionRequest,
    DecisionStatus,
)
from backorders.services.common import (
    MessageLine,
    backorders_cancel,
    cancellations_mark_told,
    description_of,
    iso,
    message_line,
    orders_url,
    recipients_by_account,
)
from backorders.services.decisions import _keep
from inventory.models import SKU, Style
from inventory.sql import placeholders
from notifications.kinds import MessageKind
from notifications.services import OutgoingMessage, messages_enqueue
from orders import rules
from orders.models import Account, DecisionDefault, Order, OrderLine

# Lines per transaction: large enough that the per-batch statements and commit are a
# small share of the work, small enough that the inbound lines a batch locks are held
# for well under a second.
DEFAULT_BATCH = 1000


@dataclass
class SweepResult:
    decisions_defaulted: int = 0
    lines_cancelled: int = 0
    accounts_told: int = 0
    more: bool = False


def _expired_decisions_default(*, today, batch_size) -> int:
    requests = locks.expired_decisions_lock(today=today, limit=batch_size)
    if not requests:
        return 0
    to_cancel = []
    now = timezone.now()
    for request in requests:
        line = request.line
        default = line.order.account.decision_default
        request.status = DecisionStatus.DEFAULTED
        request.decided_at = now
        if line.backordered == 0:
            continue
        if default == DecisionDefault.KEEP:
            request.action = DecisionAction.KEEP
            _keep(line=line)
        else:
            request.action = DecisionAction.CANCEL
            to_cancel.append(line)
    backorders_cancel(
        lines=to_cancel,
        reason="No answer about the later date by the deadline",
        source=CancelSource.DECISION_DEFAULT,
        today=today,
    )
    DecisionRequest.objects.bulk_update(requests, ["status", "action", "decided_at"])
    return len(requests)


@transaction.atomic(durable=True)
def decision_expire(*, today: dt.date | None = None, batch_size: int = DEFAULT_BATCH):
    """Apply the account's default (cancel unless it said keep) to up to `batch_size`
    decision requests whose deadline has passed. The retailers hear about the cancelled
    pairs in the daily sweep's one message per account."""
    today = today or timezone.localdate()
    done = _expired_decisions_default(today=today, batch_size=batch_size)
    return SweepResult(decisions_defaulted=done, more=_decisions_due(today=today))


def _decisions_due(*, today) -> bool:
    return DecisionRequest.objects.filter(
        status=DecisionStatus.PENDING, deadline__lt=today
    ).exists()


def _lines_due(*, today) -> bool:
    return (
        OrderLine.objects.filter(backordered__gt=0, window_end__lt=today)
        .exclude(decision_requests__status=DecisionStatus.PENDING)
        .exists()
    )


def _window_reason(line: locks.PastWindowLine) -> str:
    if line.cancel_date and line.window_end and line.window_end >= line.cancel_date:
        return f"Past your order's cancel date ({line.cancel_date.isoformat()})"
    days = rules.window_days_chosen(
        account_days=line.account_window_days, terms_days=line.terms_window_days
    )
    return f"Past your {days}-day backorder window"


@transaction.atomic(durable=True)
def backorder_sweep(*, today: dt.date | None = None, batch_size: int = DEFAULT_BATCH):
    """One batch of the daily sweep: first expired decisions (the account's default),
    then backordered pairs whose window has passed (window_end < today) are cancelled,
    and once nothing of either is left, one auto_cancel message per account for the
    day (key f"sweep:{today}:{account_id}"). `more` says whether to call again."""
    today = today or timezone.localdate()
    result = SweepResult()
    result.decisions_defaulted = _expired_decisions_default(today=today, batch_size=batch_size)
    if result.decisions_defaulted:
        result.more = True
        return result
    lines = locks.lines_past_window_lock(today=today, limit=batch_size)
    if lines:
        backorders_cancel(
            lines=lines,
            reason={line.pk: _window_reason(line) for line in lines},
            accounts={line.pk: line.account_id for line in lines},
            source=CancelSource.WINDOW,
            today=today,
        )
        result.lines_cancelled = len(lines)
        result.more = True
        return result
    if _decisions_due(today=today) or _lines_due(today=today):
        # Another worker holds them: tell no one until every cancellation is in.
        result.more = True
        return result
    result.accounts_told, result.more = _sweep_notify(today=today, batch_size=batch_size)
    return result


def _sweep_notify(*, today, batch_size) -> tuple[int, bool]:
    prefix = f"sweep:{today.isoformat()}:"
    told_today = AutoCancellation.objects.filter(
        account_id=OuterRef("pk"),
        notice_key=Concat(Value(prefix), Cast(OuterRef("pk"), CharField())),
    )
    # Accounts, not their cancellations, are tested for a message today: once each,
    # however many lines they had cancelled.
    account_ids = list(
        Account.objects.filter(
            pk__in=AutoCancellation.objects.filter(notice_key="", on_date__lte=today).values(
                "account_id"
            )
        )
        .exclude(Exists(told_today))  # told today already: in tomorrow's message
        .order_by("pk")
        .values_list("pk", flat=True)[: batch_size + 1]
    )
    more = len(account_ids) > batch_size
    account_ids = account_ids[:batch_size]
    if not account_ids:
        return 0, False
    records = locks.untold_cancellations_lock(account_ids=account_ids)
    keys = {account_id: f"{prefix}{account_id}" for account_id in account_ids}
    already = set(
        AutoCancellation.objects.filter(notice_key__in=keys.values()).values_list(
            "account_id", flat=True
        )
    )
    lines = _told_lines(line_ids={record.line_id for record in records})
    by_account = defaultdict(list)
    for record in records:
        if record.account_id not in already:  # told today already: tomorrow's message
            by_account[record.account_id].append(record)
    recipients = recipients_by_account(account_ids=by_account)
    url = orders_url()
    outgoing = []
    for account_id, account_records in by_account.items():
        account_records.sort(key=lambda r: (lines[r.line_id].line.order_number or "", r.line_id))
        reasons = list(dict.fromkeys(record.reason for record in account_records))
        outgoing.append(
            OutgoingMessage(
                key=keys[account_id],
                recipients=recipients.get(account_id, []),
                context={
                    "account_name": lines[account_records[0].line_id].account_name,
                    "reason": "; ".join(reasons),
                    "lines": [
                        message_line(
                            lines[record.line_id].line,
                            record.quantity,
                            promised_date=iso(lines[record.line_id].promised_date),
                        )
                        for record in account_records
                    ],
                    "orders_url": url,
                },
            )
        )
    messages_enqueue(kind=MessageKind.AUTO_CANCEL, messages=outgoing)
    cancellations_mark_told(
        record_ids=[record.pk for told in by_account.values() for record in told],
        key_prefix=prefix,
    )
    return len(by_account), more


class _ToldLine(NamedTuple):
    line: MessageLine
    promised_date: dt.date | None
    account_name: str


def _told_lines(*, line_ids) -> dict[int, _ToldLine]:
    """The cancelled lines as the daily message tells them, by id: read as rows in one
    query, since one message run covers tens of thousands of lines (145,000 at 100x)."""
    line_ids = list(set(line_ids))
    if not line_ids:
        return {}
    tables = {
        "line": OrderLine._meta.db_table,
        "order": Order._meta.db_table,
        "account": Account._meta.db_table,
        "sku": SKU._meta.db_table,
        "style": Style._meta.db_table,
    }
    if connection.vendor == "postgresql":  # one array parameter, not an IN list of them all
        wanted, params = "line.id = ANY(%s)", [line_ids]
    else:
        wanted, params = f"line.id IN ({placeholders(line_ids)})", line_ids
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT line.id, o.number, o.po_number, account.name, sku.code, style.name, "
            "sku.color, sku.size, sku.width, line.promised_date "
            "FROM {line} line JOIN {order} o ON o.id = line.order_id "
            "JOIN {account} account ON account.id = o.account_id "
            "JOIN {sku} sku ON sku.id = line.sku_id "
            "JOIN {style} style ON style.id = sku.style_id ".format(**tables)
            + f"WHERE {wanted}",
            params,
        )
        rows = cursor.fetchall()
    size_of = SKU._meta.get_field("size")
    return {
        pk: _ToldLine(
            MessageLine(
                number,
                po_number,
                code,
                description_of(
                    style_name=style_name,
                    color=color,
                    size=size_of.to_python(size),
                    width=width,
                ),
            ),
            promised_date,
            account_name,
        )
        for (
            pk,
            number,
            po_number,
            account_name,
            code,
            style_name,
            color,
            size,
            width,
            promised_date,
        ) in rows
    }


def backorder_sweep_all(*, today=None, batch_size: int = DEFAULT_BATCH, max_batches=10_000):
    """Run the sweep to the end in this process (the reconcile command, tests)."""
    total = SweepResult()
    for _ in range(max_batches):
        step = backorder_sweep(today=today, batch_size=batch_size)
        total.decisions_defaulted += step.decisions_defaulted
        total.lines_cancelled += step.lines_cancelled
        total.accounts_told += step.accounts_told
        if not step.more:
            return total
    total.more = True
    return total

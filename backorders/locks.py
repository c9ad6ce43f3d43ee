"""The only place backorder rows are locked. The project's lock order holds here too:
Order -> OrderLine -> StockLevel -> InboundRun -> InboundLine, rows of one table by pk;
this app's own rows (decision requests, auto-cancellations) come after all of them.

Batch jobs take at most `limit` rows with SKIP LOCKED and keep their state test in the
WHERE clause, so two workers split the work instead of doing it twice."""

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import Subquery

from backorders.models import AutoCancellation, DecisionRequest, DecisionStatus
from inventory.sql import ids_in
from orders.locks import lines_with_related
from orders.models import Account, BackorderPeg, CommercialTerms, Order, OrderLine


def _lines(queryset):
    """Lock the lines in pk order, each with its order (account, terms) and SKU (style),
    read unlocked once each (orders.locks.lines_with_related)."""
    return lines_with_related(list(queryset.select_for_update(of=("self",)).order_by("pk")))


def lines_lock(*, line_ids):
    return _lines(OrderLine.objects.filter(pk__in=set(line_ids)))


def pegged_lines_lock(*, run_id=None, inbound_line_ids=None):
    """Lock every line with a peg on this run (or these inbound lines), in pk order."""
    pegs = BackorderPeg.objects.all()
    if run_id is not None:
        pegs = pegs.filter(inbound_line__run_id=run_id)
    if inbound_line_ids is not None:
        pegs = pegs.filter(inbound_line_id__in=set(inbound_line_ids))
    return _lines(OrderLine.objects.filter(pk__in=Subquery(pegs.values("line_id"))))


def allocated_lines_lock(*, stock_level_ids):
    """Lock the lines holding allocations on these stock levels (a shortage)."""
    from orders.models import Allocation

    holders = Allocation.objects.filter(stock_level_id__in=set(stock_level_ids))
    return _lines(OrderLine.objects.filter(pk__in=Subquery(holders.values("line_id"))))


@dataclass(slots=True)
class PastWindowLine:
    """A line the sweep cancels, read as a row rather than a model (a day's sweep takes
    every open backorder at 100x, 148,000 lines): what the ledger's backorders_cancel
    changes on it, and what the cancellation's reason and record read of its order."""

    pk: int
    order_id: int
    backordered: int
    cancelled: int
    window_end: dt.date | None
    cancel_reason: str
    account_id: int
    cancel_date: dt.date | None
    account_window_days: int | None
    terms_window_days: int


def lines_past_window_lock(*, today, limit) -> list[PastWindowLine]:
    """Up to `limit` lines still backordered after their window ended, with their
    orders' account, cancel date and window days; rows another worker holds are skipped.
    A line waiting on its retailer's decision is left to the decision's deadline.

    Taken in window_end order, not by pk: the open-backorders index then yields the next
    batch directly, where a scan in pk order would pass every line earlier batches
    already cancelled. SKIP LOCKED never waits, so this order cannot deadlock."""
    tables = {
        "line": OrderLine._meta.db_table,
        "order": Order._meta.db_table,
        "account": Account._meta.db_table,
        "terms": CommercialTerms._meta.db_table,
        "decision": DecisionRequest._meta.db_table,
    }
    sql = """
        SELECT line.id, line.order_id, line.backordered, line.cancelled, line.window_end,
               line.cancel_reason, o.account_id, o.cancel_date,
               account.backorder_window_days, terms.backorder_window_days
        FROM {line} line
        JOIN {order} o ON o.id = line.order_id
        JOIN {account} account ON account.id = o.account_id
        JOIN {terms} terms ON terms.id = o.terms_id
        WHERE line.backordered > 0 AND line.window_end < %s
          AND NOT EXISTS (
              SELECT 1 FROM {decision} decision
              WHERE decision.line_id = line.id AND decision.status = %s
          )
        ORDER BY line.window_end
        LIMIT %s
    """.format(**tables)
    if connection.vendor == "postgresql":  # SQLite serialises writers
        sql += " FOR UPDATE OF line SKIP LOCKED"
    with connection.cursor() as cursor:
        cursor.execute(sql, [today, DecisionStatus.PENDING, limit])
        lines = [PastWindowLine(*row) for row in cursor.fetchall()]
    return sorted(lines, key=lambda line: line.pk)


def expired_decisions_lock(*, today, limit):
    """Up to `limit` pending decision requests whose deadline has passed, with their
    lines locked first (lock order: OrderLine before this app's rows)."""
    line_ids = list(
        DecisionRequest.objects.filter(status=DecisionStatus.PENDING, deadline__lt=today)
        .order_by("line_id")
        .values_list("line_id", flat=True)[:limit]
    )
    if not line_ids:
        return []
    lines = {
        line.pk: line
        for line in OrderLine.objects.select_for_update(of=("self",), skip_locked=True)
        .filter(pk__in=line_ids)
        .select_related("order__account", "order__terms", "sku__style")
        .order_by("pk")
    }
    requests = list(
        DecisionRequest.objects.select_for_update(of=("self",))
        .filter(line_id__in=lines, status=DecisionStatus.PENDING, deadline__lt=today)
        .order_by("pk")
    )
    for request in requests:
        request.line = lines[request.line_id]
    return requests


def decision_request_lock(*, request_id):
    return DecisionRequest.objects.select_for_update(of=("self",)).filter(pk=request_id).first()


def pending_decisions_lock(*, line_ids):
    return list(
        DecisionRequest.objects.select_for_update(of=("self",))
        .filter(ids_in("line_id", set(line_ids)), status=DecisionStatus.PENDING)
        .order_by("pk")
    )


def untold_cancellations_lock(*, account_ids):
    """The not-yet-told auto-cancellations of these accounts, as rows (pk, line_id,
    account_id, quantity, reason): the daily message reads tens of thousands of them.
    Rows another notifier holds are skipped."""
    return list(
        AutoCancellation.objects.select_for_update(of=("self",), skip_locked=True)
        .filter(account_id__in=set(account_ids), notice_key="")
        .order_by("pk")
        .values_list("pk", "line_id", "account_id", "quantity", "reason", named=True)
    )

"""Which lines a run's re-peg can move (orders.ledger.repeg), as SQL for the line lock, so
an ETA change or a cancelled run locks and loads those lines rather than every line
waiting for the run's SKUs.

A re-peg moves two kinds of line. First the lines pegged to the run itself. Then (an ETA
change, not a cancelled run) waiting lines of the run's SKUs move from their latest runs
to earlier runs with room (repeg_earlier): a line moves only from a peg whose run arrives
later than some run of its SKU that still has room. Call the earliest ETA at which a run
of a SKU has room the SKU's floor, the run's own slot counted at its new ETA. No move
lowers a floor: a line leaving a run frees room there only by taking room on an earlier
run, which was at or above the floor already. So the lines a re-peg can move are those
pegged to the run, and the waiting lines of its SKUs holding a peg on a run later than
their SKU's floor (or on a run no longer open, which the book places last).

The set is read before the inbound lines are locked, so repeg reads it again once it holds
them (any change of room or of who holds a run's pairs writes those rows' counters or
moves a line already in the set, which the caller waited for) and locks what is new."""

import datetime as dt

from django.db import connection

from inventory.models import OPEN_INBOUND_STATUSES, InboundLine, InboundRun
from orders.models import BackorderPeg, OrderLine


def repeg_reach(*, run_id: int, eta: dt.date | None) -> tuple[str, list]:
    """SQL selecting the ids of the lines a re-peg of `run_id` can move, and its
    parameters: `eta` is the run's new ETA (an ETA change), None for a cancelled run
    (its lines move away only, so only its own lines are reached)."""
    tables = {
        "line": OrderLine._meta.db_table,
        "peg": BackorderPeg._meta.db_table,
        "inbound": InboundLine._meta.db_table,
        "run": InboundRun._meta.db_table,
    }
    own = (
        "SELECT peg.line_id FROM {peg} peg JOIN {inbound} inbound "
        "ON inbound.id = peg.inbound_line_id WHERE inbound.run_id = %s"
    ).format(**tables)
    if eta is None:
        return own, [run_id]
    statuses = ", ".join(["%s"] * len(OPEN_INBOUND_STATUSES))
    sql = (
        "WITH slots AS ("
        " SELECT inbound.id, inbound.sku_id,"
        " CASE WHEN inbound.run_id = %s THEN %s ELSE run.eta END AS eta,"
        " inbound.quantity - inbound.received - inbound.promised AS free"
        " FROM {inbound} inbound JOIN {run} run ON run.id = inbound.run_id"
        f" WHERE run.status IN ({statuses}) AND inbound.sku_id IN"
        " (SELECT sku_id FROM {inbound} WHERE run_id = %s)"
        "), floors AS ("
        " SELECT sku_id, MIN(eta) AS eta FROM slots WHERE free > 0 GROUP BY sku_id"
        ") "
        f"{own} UNION "
        "SELECT line.id FROM {line} line"
        " JOIN floors ON floors.sku_id = line.sku_id"
        " JOIN {peg} peg ON peg.line_id = line.id"
        " LEFT JOIN slots ON slots.id = peg.inbound_line_id"
        " WHERE line.backordered > 0 AND (slots.id IS NULL OR slots.eta > floors.eta)"
    ).format(**tables)
    return sql, [run_id, eta, *OPEN_INBOUND_STATUSES, run_id, run_id]


def reach_ids(*, run_id: int, eta: dt.date | None) -> set[int]:
    """The ids repeg_reach selects, read now."""
    sql, params = repeg_reach(run_id=run_id, eta=eta)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}

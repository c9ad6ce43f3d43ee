"""The only place rows of this app are locked. Always in pk order, so two transactions
that lock overlapping sets never wait on each other in a cycle."""

from typing import NamedTuple

from django.db import connection

from inventory.models import OPEN_INBOUND_STATUSES, InboundLine, InboundRun, StockLevel
from inventory.sql import ids_in

# Advisory locks on run ETAs are (RUN_ETA_LOCKS, run id mod RUN_ETA_BUCKETS), apart from
# every other key. Buckets bound the locks one transaction takes (PostgreSQL's lock table
# is small) at the price of runs sharing a bucket waiting for each other's ETA changes.
RUN_ETA_LOCKS = 4_201
RUN_ETA_BUCKETS = 256


def stock_levels_lock(*, sku_ids):
    """Lock every stock level of these SKUs (in pk order; callers pick warehouses)."""
    return list(
        StockLevel.objects.select_for_update(of=("self",))
        .filter(sku_id__in=sku_ids)
        .select_related("warehouse")
        .order_by("pk")
    )


def stock_level_lock(*, sku_id, warehouse_id):
    return (
        StockLevel.objects.select_for_update(of=("self",))
        .filter(sku_id=sku_id, warehouse_id=warehouse_id)
        .first()
    )


def open_inbound_lines_lock(*, sku_ids):
    """Lock the open inbound lines of these SKUs (runs planned, confirmed or in transit)."""
    return list(
        InboundLine.objects.select_for_update(of=("self",))
        .filter(sku_id__in=sku_ids, run__status__in=OPEN_INBOUND_STATUSES)
        .select_related("run")
        .order_by("pk")
    )


class OpenInbound(NamedTuple):
    """An open inbound line as the ledger's book reads it."""

    pk: int
    run_id: int
    sku_id: int
    quantity: int
    received: int
    promised: int


def open_inbound_rows_lock(*, sku_ids) -> list[OpenInbound]:
    """open_inbound_lines_lock, the same rows in the same order, read as values: the
    ledger's book needs six columns of each, and an ETA change at 100x locks some 65,000
    of them (building each line with its run took longer than the rest of the lock)."""
    return [
        OpenInbound(*row)
        for row in InboundLine.objects.select_for_update(of=("self",))
        .filter(ids_in("sku_id", sku_ids), run__status__in=OPEN_INBOUND_STATUSES)
        .order_by("pk")
        .values_list("pk", "run_id", "sku_id", "quantity", "received", "promised")
    ]


def inbound_run_lock(*, reference=None, run_id=None):
    queryset = InboundRun.objects.select_for_update()
    if run_id is not None:
        return queryset.filter(pk=run_id).first()
    return queryset.filter(reference=reference).first()


def inbound_lines_lock(*, run_id):
    return list(
        InboundLine.objects.select_for_update(of=("self",))
        .filter(run_id=run_id)
        .select_related("sku")
        .order_by("pk")
    )


def stock_levels_lock_for(*, sku_ids, warehouse_ids):
    """Lock the stock levels of these SKUs in these warehouses (a superset of the pairs a
    caller needs is fine: rows are taken in pk order)."""
    return list(
        StockLevel.objects.select_for_update(of=("self",))
        .filter(sku_id__in=set(sku_ids), warehouse_id__in=set(warehouse_ids))
        .select_related("sku", "warehouse")
        .order_by("pk")
    )


def stock_level_lock_by_id(*, stock_level_id):
    return (
        StockLevel.objects.select_for_update(of=("self",))
        .filter(pk=stock_level_id)
        .select_related("sku", "warehouse")
        .first()
    )


def rows_lock_cte(*, model) -> str:
    """`, locked AS (...)`: a common table expression that locks, in pk order, the rows of
    `model` (a stock level, an inbound line) whose ids the statement's `taken` table
    lists, for one statement to lock and then move many counters (the statement must
    join `locked`). Empty on SQLite, which serialises writers."""
    if connection.vendor != "postgresql":
        return ""
    return (
        f", locked AS (SELECT id FROM {model._meta.db_table} "
        "WHERE id IN (SELECT taken_id FROM taken) ORDER BY id FOR UPDATE)"
    )


def run_etas_share_lock(*, sku_ids) -> set[int]:
    """Hold the ETAs of the open runs bringing these SKUs until the commit, and return
    those runs' ids: for anything that pegs lines to runs (a placement, a shortage, a
    cancelled run's lines moving). Shared, so placements on one run do not queue; an
    ETA change takes the same locks exclusively (run_eta_lock), so a placement either
    commits before the change reads the run's lines or plans with the new ETA. Taken
    before any row lock, so it is never awaited while holding one. SQLite serialises
    writers already: there only the ids are read."""
    run_ids = set(
        InboundLine.objects.filter(
            sku_id__in=sku_ids, run__status__in=OPEN_INBOUND_STATUSES
        ).values_list("run_id", flat=True)
    )
    _run_eta_advisory_lock("pg_advisory_xact_lock_shared", run_ids)
    return run_ids


def run_eta_lock(*, run_id, sku_ids=None) -> None:
    """Hold one run's ETA exclusively until the commit (an ETA change): waits for the
    placements pegging to it to commit. With `sku_ids`, also hold the ETAs of the other
    open runs of these SKUs shared (lines may move to them), every bucket in one sorted
    pass so two changes never wait on each other in a cycle. Taken first, before any
    row lock."""
    if connection.vendor != "postgresql":
        return
    shared = set()
    if sku_ids is not None:
        # Each run once (an ETA change's SKUs have 65,000 open inbound lines on 6,000 runs).
        shared = set(
            InboundLine.objects.filter(
                ids_in("sku_id", sku_ids), run__status__in=OPEN_INBOUND_STATUSES
            )
            .values_list("run_id", flat=True)
            .order_by()
            .distinct()
        )
    own = run_id % RUN_ETA_BUCKETS
    buckets = sorted({own} | {other % RUN_ETA_BUCKETS for other in shared})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN bucket = %s THEN pg_advisory_xact_lock(%s, bucket) "
            "ELSE pg_advisory_xact_lock_shared(%s, bucket) END "
            "FROM unnest(%s::integer[]) AS bucket",
            [own, RUN_ETA_LOCKS, RUN_ETA_LOCKS, buckets],
        )


def _run_eta_advisory_lock(function: str, run_ids) -> None:
    if connection.vendor != "postgresql" or not run_ids:
        return
    buckets = sorted({run_id % RUN_ETA_BUCKETS for run_id in run_ids})
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {function}(%s, bucket) FROM unnest(%s::integer[]) AS bucket",
            [RUN_ETA_LOCKS, buckets],
        )

"""The ledger's counters: StockLevel.on_hand / allocated and InboundLine.promised /
received. Each moves with one conditional UPDATE (many rows in one statement), never in
Python; a row that no longer satisfies the condition raises and the caller rolls back.
The check constraints on both tables are the backstop."""

from collections.abc import Sequence

from django.db import connection, transaction

from inventory import locks
from inventory.compiled import statement_run
from inventory.exceptions import InboundOverPromised, InsufficientStock
from inventory.models import InboundLine, StockLevel
from inventory.sql import integers_table


@transaction.atomic(savepoint=False)
def stock_allocate_many(*, takes: Sequence[tuple[StockLevel, int]]) -> None:
    """Allocate (level, pairs) for many stock levels, each level once, in one statement
    whatever their number: it locks the levels in pk order, then moves every counter
    with one conditional UPDATE. The levels may have been read without a lock: a level
    that no longer has the pairs above its holdback raises InsufficientStock."""
    statement = stock_allocate_statement(takes=takes)
    if statement is None:
        return
    sql, params = statement
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        stock_allocated(takes=takes, returned=cursor.fetchall())


def stock_allocate_statement(*, takes) -> tuple[str, list] | None:
    """stock_allocate_many's statement and parameters, for a caller that sends it last in
    a round trip of its own (ledger.lines_place) and hands what it returned to
    stock_allocated; None when nothing is taken."""
    quantities = {level.pk: take for level, take in takes if take}
    if not quantities:
        return None
    return _counters_update_sql(
        model=StockLevel,
        assignment="allocated = target.allocated + taken.quantity",
        condition="target.on_hand >= target.allocated + target.holdback + taken.quantity",
        quantities=quantities,
        lock=True,
    )


def stock_allocated(*, takes, returned) -> None:
    """After stock_allocate_statement ran (``returned``: its rows): InsufficientStock
    for a level it refused, else each level's ``allocated`` as it now stands."""
    updated = {row[0] for row in returned}
    takes = [(level, take) for level, take in takes if take]
    for level, take in takes:
        if level.pk not in updated:
            raise InsufficientStock(level.sku_id, take, 0)
    for level, take in takes:
        level.allocated += take


def stock_release_many(*, quantities: dict[int, int]) -> None:
    """Give allocated pairs back ({stock level id: pairs}): a cancellation or a shortage."""
    short = _counters_update(
        model=StockLevel,
        assignment="allocated = target.allocated - taken.quantity",
        condition="target.allocated >= taken.quantity",
        quantities=_positive(quantities),
    )
    if short:
        raise InsufficientStock(min(short), quantities[min(short)], 0)


def stock_ship_many(*, quantities: dict[int, int]) -> None:
    """Allocated pairs leave the warehouse: on_hand and allocated both go down."""
    short = _counters_update(
        model=StockLevel,
        assignment="on_hand = target.on_hand - taken.quantity, "
        "allocated = target.allocated - taken.quantity",
        condition="target.allocated >= taken.quantity AND target.on_hand >= taken.quantity",
        quantities=_positive(quantities),
    )
    if short:
        raise InsufficientStock(min(short), quantities[min(short)], 0)


def stock_put_away_many(*, quantities: dict[int, int]) -> None:
    """Pairs arrive on the shelf ({stock level id: pairs}): a receipt."""
    _counters_update(
        model=StockLevel,
        assignment="on_hand = target.on_hand + taken.quantity",
        condition="TRUE",
        quantities=_positive(quantities),
    )


def stock_on_hand_set(*, stock_level_id: int, on_hand: int) -> bool:
    """Set a locked level's count; False (nothing written) if it is below what is
    allocated."""
    return bool(
        StockLevel.objects.filter(pk=stock_level_id, allocated__lte=on_hand).update(on_hand=on_hand)
    )


@transaction.atomic(savepoint=False)
def inbound_promise_many(*, quantities: dict[int, int]) -> None:
    """Promise pairs of many inbound lines ({inbound line id: pairs}) in one statement:
    it locks the rows in pk order, then one conditional UPDATE promises them all.
    Raises InboundOverPromised if any line cannot take its pairs."""
    short = _inbound_promised_update(
        quantities=quantities,
        assignment="promised = target.promised + taken.quantity",
        condition="target.promised <= target.quantity - target.received - taken.quantity",
    )
    if short:
        raise InboundOverPromised(f"Inbound line {short[0]} cannot take {short[1]} more.")


@transaction.atomic(savepoint=False)
def inbound_unpromise_many(*, quantities: dict[int, int]) -> None:
    """Take promises back from many inbound lines ({inbound line id: pairs}); raises
    InboundOverPromised if any line has fewer promised (the caller rolls back)."""
    short = _inbound_promised_update(
        quantities=quantities,
        assignment="promised = target.promised - taken.quantity",
        condition="target.promised >= taken.quantity",
    )
    if short:
        raise InboundOverPromised(f"Inbound line {short[0]} has fewer than {short[1]} promised.")


def inbound_receive_many(*, quantities: dict[int, int]) -> None:
    """Pairs of inbound lines arrive ({inbound line id: pairs}); never more than each still
    brings beyond its promises (the caller released those first)."""
    short = _counters_update(
        model=InboundLine,
        assignment="received = target.received + taken.quantity",
        condition="target.received + target.promised <= target.quantity - taken.quantity",
        quantities=_positive(quantities),
    )
    if short:
        raise InboundOverPromised(f"Inbound line {min(short)} changed under the receipt.")


def inbound_promise(*, inbound_line_id: int, quantity: int) -> None:
    """One inbound line's promise (a shortage or a re-peg moving a line)."""
    inbound_promise_many(quantities={inbound_line_id: quantity})


def _inbound_promised_update(*, quantities, assignment, condition) -> tuple[int, int] | None:
    """Lock these inbound lines in pk order and move their promised counts, in one
    statement; (line id, pairs) of the first line (by pk) the condition refused, or None."""
    quantities = _positive(quantities)
    if not quantities:
        return None
    short = _counters_update(
        model=InboundLine,
        assignment=assignment,
        condition=condition,
        quantities=quantities,
        lock=True,
    )
    return min(((pk, quantities[pk]) for pk in short), default=None)


def _positive(quantities) -> dict[int, int]:
    return {int(pk): int(quantity) for pk, quantity in quantities.items() if quantity}


def _counters_update(
    *, model, assignment: str, condition: str, quantities: dict, lock: bool = False
) -> set:
    """One conditional UPDATE of many rows of `model` ({pk: quantity}), locked by the
    caller, or with `lock` by the statement itself, in pk order before any is written:
    `assignment` and `condition` are SQL about `target` (the row) and `taken.quantity`
    (its quantity). Returns the pks the condition refused."""
    if not quantities:
        return set()
    sql, params = _counters_update_sql(
        model=model, assignment=assignment, condition=condition, quantities=quantities, lock=lock
    )
    with connection.cursor() as cursor:
        statement_run(cursor, sql, params)
        updated = {row[0] for row in cursor.fetchall()}
    return set(quantities) - updated


def _counters_update_sql(
    *, model, assignment: str, condition: str, quantities: dict, lock: bool
) -> tuple[str, list]:
    """_counters_update's statement (it returns the ids it moved) and parameters."""
    taken, params = integers_table("taken", ["taken_id", "quantity"], sorted(quantities.items()))
    locked = locks.rows_lock_cte(model=model) if lock else ""
    source = "taken JOIN locked ON locked.id = taken.taken_id" if locked else "taken"
    # Qualified only where `locked` makes a bare id ambiguous: SQLite refuses the alias.
    returning = "target.id" if locked else "id"
    return (
        f"{taken.rstrip()}{locked} UPDATE {model._meta.db_table} AS target SET {assignment} "
        f"FROM {source} WHERE target.id = taken.taken_id AND {condition} RETURNING {returning}",
        params,
    )

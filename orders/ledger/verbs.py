"""The ledger's verbs. Each runs inside its caller's transaction, takes the locks it
needs in the project's order (see orders.ledger) and leaves every invariant true."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from inventory import locks as inventory_locks
from inventory import selectors as inventory_selectors
from inventory.exceptions import InsufficientStock
from inventory.models import InboundLine, StockLevel
from inventory.sql import ids_in, placeholders, values_table
from orders import locks, rules
from orders.ledger import counters
from orders.ledger.book import Book
from orders.ledger.fill import fill, rehome, repeg_earlier, repeg_oldest_first, waiting_by_sku
from orders.ledger.reach import reach_ids, repeg_reach
from orders.ledger.rows import rows_insert
from orders.models import Allocation, BackorderPeg, BackorderPolicy, OrderLine
from orders.selectors import line_expected_dates


@dataclass
class Filled:
    """Lines that received pairs (fair fill), and lines whose runs changed."""

    filled: dict[int, int] = field(default_factory=dict)  # line id -> pairs
    moved: dict[int, dt.date] = field(default_factory=dict)  # line id -> latest ETA
    lines: dict[int, OrderLine] = field(default_factory=dict)
    pegged: set[int] = field(default_factory=set)  # repeg: lines on the run before it


def lines_lock(*, line_ids=(), order_id=None, waiting_sku_ids=()) -> list[OrderLine]:
    """The lines a verb changes, with every line waiting for these SKUs (see
    orders.locks.ledger_lines_lock). Take it before any stock level or inbound line."""
    return locks.ledger_lines_lock(
        line_ids=line_ids, order_id=order_id, waiting_sku_ids=waiting_sku_ids
    )


def repeg_lines_lock(*, run_id, eta: dt.date | None) -> list[OrderLine]:
    """The lines a re-peg of this run can move (repeg_reach: `eta` its new ETA, None for
    a cancelled run), locked before any stock level or inbound line, each related row
    built once. Take it after the run's ETA lock (inventory.locks.run_eta_lock), so no
    placement pegs to the run unseen; repeg locks whatever else its book then reaches."""
    return locks.ledger_lines_lock(reach=repeg_reach(run_id=run_id, eta=eta), related_once=True)


def _book(*, lines, sku_ids, today, levels=None) -> Book:
    """A book over locked lines, with the SKUs' stock levels and open inbound lines
    locked (StockLevel, then InboundLine). A line that started waiting after the
    caller's lock (a placement that committed meanwhile) is locked and added."""
    book = Book(lines=lines, today=today)
    sku_ids = set(sku_ids)
    if not sku_ids:
        return book
    book.use_levels(
        levels if levels is not None else inventory_locks.stock_levels_lock(sku_ids=sku_ids)
    )
    late = set(
        OrderLine.objects.filter(sku_id__in=sku_ids, backordered__gt=0).values_list("pk", flat=True)
    ) - set(book.lines)
    if late:
        book.add_lines(locks.ledger_lines_lock(line_ids=late))
    book.use_open_inbound(inventory_locks.open_inbound_rows_lock(sku_ids=sku_ids))
    return book


def _settle(book: Book, *, sku_ids, result: Filled, ship_date_of) -> Filled:
    """Fair fill, then move what still waits to earlier runs, then write."""
    result.filled.update(fill(book, sku_ids=sku_ids))
    result.moved.update(repeg_earlier(book, sku_ids=sku_ids))
    result.moved.update(repeg_oldest_first(book, sku_ids=sku_ids))
    for line_id in result.filled:
        line = book.lines[line_id]
        line.communicated_date = ship_date_of(line)
        book.touch(line)
    result.lines = book.lines
    book.write()
    _still_waiting_told(book, line_ids=result.filled)
    return result


def _still_waiting_told(book: Book, *, line_ids) -> None:
    """A line filled in part still waits for the rest: the date it was told is that
    rest's date (from its pegs, once written), not the filled pairs' ship date."""
    partly = [book.lines[line_id] for line_id in line_ids if book.lines[line_id].backordered]
    if partly:
        dates_told(lines=partly, dates=line_expected_dates(lines=partly))


def dates_told(*, lines, dates: dict[int, dt.date]) -> None:
    """Record the date each line was told (`dates` by line id; lines not in it keep theirs):
    what a later move is measured against. One UPDATE per distinct date."""
    by_date = defaultdict(list)
    for line in lines:
        if line.pk in dates:
            line.communicated_date = dates[line.pk]
            by_date[line.communicated_date].append(line.pk)
    for date, ids in by_date.items():
        OrderLine.objects.filter(ids_in("pk", ids)).update(communicated_date=date)


def _from_stock(today):
    return lambda line: inventory_selectors.ship_date_from_stock(
        terms=line.order.terms, today=today
    )


# --- placement ------------------------------------------------------------------


@transaction.atomic(savepoint=False)
def lines_place(*, lines, takes, parts, order=None, rows=()):
    """Write new lines with their split, their allocations ((line, level, pairs)) and
    pegs ((line, inbound line id, pairs)), after their new ``order``'s row when given,
    with ``rows``, other new rows that refer to none of these (the order's confirmation
    in the outbox); the counters move last, so a stock level is held only from there to
    the commit (the rows reference levels and inbound lines through deferred foreign
    keys, checked at the commit, after these locks). On PostgreSQL with every pk drawn
    (a placement's), the rows and the stock levels' counters go in one round trip."""
    # Keyed by the line object's identity: a line may have no pk until it is inserted.
    pegs, placed = defaultdict(int), {id(line): line for line in lines}
    for line, inbound_line_id, qty in parts:
        pegs[(id(line), inbound_line_id)] += qty
    levels = defaultdict(int)
    by_pk = {}
    for _, level, qty in takes:
        levels[level.pk] += qty
        by_pk[level.pk] = level
    allocate = [(by_pk[pk], qty) for pk, qty in levels.items()]
    statement = counters.stock_allocate_statement(takes=allocate)
    returned = rows_insert(
        parents=[[order] if order is not None else [], lines, list(rows)],
        children=[
            [Allocation(line=line, stock_level=level, quantity=qty) for line, level, qty in takes],
            [
                BackorderPeg(line=placed[key], inbound_line_id=inbound, quantity=qty)
                for (key, inbound), qty in pegs.items()
            ],
        ],
        then=statement,
    )
    if statement is not None:
        counters.stock_allocated(takes=allocate, returned=returned)
    promised = defaultdict(int)
    for _, inbound_line_id, qty in parts:
        promised[inbound_line_id] += qty
    counters.inbound_promise_many(quantities=promised)


# --- cancelling -----------------------------------------------------------------


@transaction.atomic(savepoint=False)
def cancel(*, lines, wanted, reason: str, today: dt.date) -> Filled:
    """Cancel open pairs of locked lines (wanted: [(line, pairs)]): backordered first
    (they would come last; latest run first), then allocated (newest first). The
    released stock goes to the SKU's waiting backorders first (fair fill)."""
    sku_ids = {line.sku_id for line, quantity in wanted if quantity}
    book = _book(lines=lines, sku_ids=sku_ids, today=today)
    for line, quantity in wanted:
        line = book.lines[line.pk]
        from_backorder = min(quantity, line.backordered)
        from_allocation = min(quantity - from_backorder, line.allocated)
        if not from_backorder + from_allocation:
            continue
        book.unpeg(line, from_backorder)
        book.unallocate(line, from_allocation)
        book.split(
            line,
            backordered=-from_backorder,
            allocated=-from_allocation,
            cancelled=from_backorder + from_allocation,
        )
        line.cancel_reason = reason[:200]
    return _settle(book, sku_ids=sku_ids, result=Filled(), ship_date_of=_from_stock(today))


def _pegs_delete(*, line_ids) -> dict[int, int]:
    """Delete the pegs of these locked lines in one statement; returns the pairs each
    inbound line had promised to them. Only a holder of a line's lock changes its pegs,
    so deleting them before the inbound lines are locked cannot deadlock."""
    released = defaultdict(int)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {BackorderPeg._meta.db_table} "
            f"WHERE line_id IN ({placeholders(line_ids)}) RETURNING inbound_line_id, quantity",
            list(line_ids),
        )
        for inbound_line_id, quantity in cursor.fetchall():
            released[inbound_line_id] += quantity
    return released


@transaction.atomic(savepoint=False)
def backorders_cancel(*, lines, reasons: dict[int, str]) -> dict[int, int]:
    """Cancel every backordered pair of these locked lines at once (the sweep, a run
    cancelled, a decision): pegs go, promises are released, the splits move to
    cancelled, each line with its reason. A fixed number of statements whatever the
    number of lines. Returns {line id: pairs cancelled}. No pairs come free in a
    warehouse, so nothing is filled."""
    lines = [line for line in lines if line.backordered > 0]
    if not lines:
        return {}
    quantities = {line.pk: line.backordered for line in lines}
    counters.inbound_unpromise_many(quantities=_pegs_delete(line_ids=list(quantities)))
    cancelled, params = values_table(
        "cancelled", ["line_id", "reason"], [(line.pk, reasons[line.pk][:200]) for line in lines]
    )
    # The lines are locked and backordered (above), so no "backordered > 0" here: with
    # it the planner matched the open-backorders index and read every open line (145,000
    # at 100x) for a batch of 1,000, where each line's key takes one probe.
    with connection.cursor() as cursor:
        cursor.execute(
            f"{cancelled}UPDATE {OrderLine._meta.db_table} AS line "
            "SET cancelled = line.cancelled + line.backordered, backordered = 0, "
            "window_end = NULL, cancel_reason = cancelled.reason "
            "FROM cancelled WHERE line.id = cancelled.line_id",
            params,
        )
    for line in lines:
        line.cancelled += line.backordered
        line.backordered = 0
        line.window_end = None
        line.cancel_reason = reasons[line.pk][:200]
    return quantities


@transaction.atomic(savepoint=False)
def free_fill(*, lines, sku_ids, today) -> Filled:
    """Pairs came free without a count or a receipt (a planner lowered a holdback): they
    go to the SKUs' waiting backorders first (fair fill), like any other freed pairs."""
    book = _book(lines=lines, sku_ids=sku_ids, today=today)
    return _settle(book, sku_ids=sku_ids, result=Filled(), ship_date_of=_from_stock(today))


# --- shipping -------------------------------------------------------------------


@transaction.atomic(savepoint=False)
def ship(*, lines, wanted) -> None:
    """Allocated pairs of locked lines leave the warehouse (wanted: [(line, pairs)]):
    the oldest allocations first, on_hand and allocated both go down, the pairs move
    from allocated to shipped."""
    sku_ids = {line.sku_id for line, _ in wanted}
    book = Book(lines=lines, today=timezone.localdate())
    book.use_levels(inventory_locks.stock_levels_lock(sku_ids=sku_ids))
    for line, quantity in wanted:
        taken = book.unallocate(book.lines[line.pk], quantity, oldest_first=True)
        for level_id, take in taken.items():
            book.allocated[level_id] += take  # shipped pairs leave on_hand and allocated
            book.shipped[level_id] += take
        book.split(book.lines[line.pk], allocated=-quantity, shipped=quantity)
    book.write()


# --- receipts and stock counts --------------------------------------------------


@transaction.atomic(savepoint=False)
def receive(*, lines, levels, inbound_lines, wanted: dict[int, int], today) -> Filled:
    """Pairs of a run arrive (wanted: {inbound line id: pairs}) into its warehouse's
    locked stock levels: on hand, then to the SKUs' waiting backorders oldest order first
    whichever run they were pegged to; the backorders that were pegged to the run and
    no longer fit its remaining pairs move to the runs the filled ones freed; what still
    waits moves to earlier runs with room. Only the rest is ATS."""
    by_sku = {level.sku_id: level for level in levels}
    sku_ids = {inbound.sku_id for inbound in inbound_lines if inbound.pk in wanted}
    book = _book(lines=lines, sku_ids=sku_ids, today=today, levels=levels)
    for inbound in inbound_lines:
        quantity = wanted.get(inbound.pk, 0)
        if not quantity:
            continue
        book.put_away[by_sku[inbound.sku_id].pk] += quantity
        book.received[inbound.pk] += quantity
        slot = book.slot(inbound.pk)
        if slot is not None:
            slot.free -= quantity
    result = Filled()
    result.filled.update(fill(book, sku_ids=sku_ids, first_inbound=set(wanted)))
    result.moved.update(rehome(book, inbound_line_ids=list(wanted)))
    return _settle(book, sku_ids=sku_ids, result=result, ship_date_of=_from_stock(today))


@dataclass
class ShortageOutcome:
    line: OrderLine
    quantity: int
    outcome: str  # "backordered" or "cancelled"
    expected: dt.date | None


@dataclass
class CountResult:
    changed: int = 0
    unchanged: int = 0
    outcomes: dict[int, list[ShortageOutcome]] = field(default_factory=dict)  # level id
    filled: Filled = field(default_factory=Filled)


SHORTAGE_REASON = "Warehouse stock shortage"


@transaction.atomic(savepoint=False)
def counts_set(*, lines, levels, counts: dict[int, int], today) -> CountResult:
    """Apply absolute counts ({stock level id: on hand}) to locked levels. Below what is
    allocated, the newest allocations give way first, each to backorder where it may
    (committed style, a run inside the line's window, the account and order accept
    backorders) or cancelled. Above it, the freed pairs go to waiting backorders first."""
    sku_ids = {level.sku_id for level in levels}
    book = _book(lines=lines, sku_ids=sku_ids, today=today, levels=levels)
    result = CountResult()
    for level in sorted(levels, key=lambda level: level.pk):
        short = level.allocated - counts[level.pk]
        if short > 0:
            result.outcomes[level.pk] = _shortage(book, level=level, short=short, today=today)
    book.write()
    for level in levels:
        if level.on_hand == counts[level.pk]:
            result.unchanged += 1
            continue
        level.refresh_from_db(fields=["allocated"])
        if not counters.stock_on_hand_set(stock_level_id=level.pk, on_hand=counts[level.pk]):
            raise InsufficientStock(level.sku_id, level.allocated, counts[level.pk])
        level.on_hand = counts[level.pk]
        result.changed += 1
    result.filled = _settle(book, sku_ids=sku_ids, result=Filled(), ship_date_of=_from_stock(today))
    return result


def _shortage(book: Book, *, level, short, today) -> list[ShortageOutcome]:
    holders = sorted(
        (key for key in book.allocations if key[1] == level.pk),
        key=lambda key: (book._created(key), key[0]),
        reverse=True,
    )
    outcomes = []
    for line_id, _ in holders:
        if short == 0:
            break
        line = book.lines[line_id]
        take = min(book.allocations[(line_id, level.pk)], short)
        short -= take
        book.unallocate(line, take, level_ids={level.pk})
        book.split(line, allocated=-take, backordered=take)
        outcomes.extend(_backorder_or_cancel(book, line=line, quantity=take, today=today))
    return outcomes


def _backorder_or_cancel(book: Book, *, line, quantity, today) -> list[ShortageOutcome]:
    """Pairs just moved to backordered on `line` (by a shortage): peg them to runs
    inside its window, or cancel them with the reason."""
    order = line.order
    eligible = (
        order.account.accepts_backorders
        and order.backorder_policy == BackorderPolicy.ALLOW
        and order.status in ("open", "partially_shipped")
    )
    window_end = line.window_end or rules.backorder_window_end(
        account=order.account,
        terms=order.terms,
        cancel_date=order.cancel_date,
        today=timezone.localdate(order.placed_at),
    )
    promise = inventory_selectors.promise_plan(
        sku=line.sku,
        quantity=quantity,
        ats=0,
        slots=[
            inventory_selectors.InboundSlot(
                slot.inbound_line_id, slot.sku_id, slot.run_id, "", slot.eta, slot.free
            )
            for slot in book.slots[line.sku_id]
            if slot.free > 0
        ],
        terms=order.terms,
        window_end=window_end,
        allow_backorder=eligible,
        today=today,
    )
    outcomes = []
    for part in promise.inbound_parts:
        book.peg(line, part.inbound_line_id, part.quantity)
    if promise.backordered:
        line.window_end = window_end
        line.communicated_date = max(promise.ships_by, line.communicated_date or promise.ships_by)
        outcomes.append(ShortageOutcome(line, promise.backordered, "backordered", promise.ships_by))
    if promise.unpromised:
        book.split(line, backordered=-promise.unpromised, cancelled=promise.unpromised)
        line.cancel_reason = f"{SHORTAGE_REASON}: {promise.reason}"[:200]
        outcomes.append(ShortageOutcome(line, promise.unpromised, "cancelled", None))
    book.touch(line)
    return outcomes


# --- runs moving ----------------------------------------------------------------


@transaction.atomic(savepoint=False)
def repeg(*, lines, run, today, leaving: bool, sku_ids=None) -> Filled:
    """A run slipped (leaving=False) or is cancelled (leaving=True). Its locked lines
    move, oldest order first, to other runs of their SKU with room that ship inside
    their window (earlier than the run's new ETA for a slip); a cancelled run's line
    moves only whole. Then every waiting line of those SKUs moves to earlier runs with
    room (an ETA moving earlier makes room). `lines`: those repeg_lines_lock took (or
    more); once the inbound lines are locked (from then on nothing changes their room or
    who holds their pairs), the lines the re-peg reaches are read again and any not
    locked yet are locked and added. Returns the lines moved with the ETA they now wait
    for, every line of the book, and the lines that were on the run. `sku_ids`: the
    run's SKUs when the caller has read them."""
    if sku_ids is None:
        sku_ids = set(InboundLine.objects.filter(run_id=run.pk).values_list("sku_id", flat=True))
    if not inventory_selectors.open_inbound_has_room(sku_ids=sku_ids):
        # Every move takes room on an open run of the SKU. With none (a slip in a season
        # sold out ahead) no peg moves: no book, and no inbound line to lock, since
        # nothing here writes one. Room made after this read leaves the change as it
        # would have been had it run just before. A line pegged to the run since the
        # caller's lock (work the lock waited for) is locked and added, as below.
        pegged = set(
            BackorderPeg.objects.filter(inbound_line__run_id=run.pk).values_list(
                "line_id", flat=True
            )
        )
        by_id = {line.pk: line for line in lines}
        late = pegged - by_id.keys()
        if late:
            by_id.update((line.pk, line) for line in locks.ledger_lines_lock(line_ids=late))
        return Filled(lines=by_id, pegged=pegged)
    book = Book(lines=lines, today=today)
    book.use_open_inbound(inventory_locks.open_inbound_rows_lock(sku_ids=sku_ids))
    late = reach_ids(run_id=run.pk, eta=None if leaving else run.eta) - set(book.lines)
    if late:
        book.add_lines(locks.ledger_lines_lock(line_ids=late))
    run_inbound = {
        slot.inbound_line_id
        for slots in book.slots.values()
        for slot in slots
        if slot.run_id == run.pk
    }
    pegged = {line_id for line_id, inbound_id in book.pegs if inbound_id in run_inbound}
    moved = {}
    waiting = waiting_by_sku(book, sku_ids)
    for sku_id in sorted(sku_ids):
        for line in waiting[sku_id]:
            on_run = [(i, q) for i, q in book.line_pegs(line.pk) if i in run_inbound]
            quantity = sum(q for _, q in on_run)
            if not quantity:
                continue
            candidates = [
                slot
                for slot in book.slots[sku_id]
                if slot.run_id != run.pk
                and slot.free > 0
                and (leaving or slot.eta < run.eta)
                and line.window_end is not None
                and book.ships_by(line, slot.eta) <= line.window_end
            ]
            if leaving and sum(slot.free for slot in candidates) < quantity:
                continue
            for slot in candidates:
                if not quantity:
                    break
                take = min(slot.free, quantity)
                book.unpeg(line, take, first={i for i, _ in on_run})
                book.peg(line, slot.inbound_line_id, take)
                quantity -= take
                moved[line.pk] = slot.eta
    if not leaving:
        moved.update(repeg_earlier(book, sku_ids=sku_ids))
    book.write()
    return Filled(moved=moved, lines=book.lines, pegged=pegged)


# --- the demo data and repairs --------------------------------------------------


@transaction.atomic(savepoint=False)
def stock_levels_open(*, levels) -> None:
    """New stock levels with their first counts (the demo data): nothing is allocated
    yet, so no backorder can be waiting for them."""
    StockLevel.objects.bulk_create(levels, batch_size=2000)


@transaction.atomic(savepoint=False)
def history_load(*, lines, allocations, pegs, batch_size) -> None:
    """Write a history of lines with their allocations and pegs in bulk (the demo data,
    simulated oldest first against stock and runs, in chunks); call counters_derive
    after the last chunk."""
    OrderLine.objects.bulk_create(lines, batch_size=batch_size)
    Allocation.objects.bulk_create(allocations, batch_size=batch_size)
    BackorderPeg.objects.bulk_create(pegs, batch_size=batch_size)


def counters_derive(*, stock_level_ids=None, inbound_line_ids=None) -> None:
    """Set StockLevel.allocated to the sum of its allocations and InboundLine.promised
    to the sum of its pegs (all rows holding any, or the ids given): the demo data, and
    reconcile's repair."""
    stock_filter = "id IN (SELECT DISTINCT stock_level_id FROM {allocation})"
    inbound_filter = "id IN (SELECT DISTINCT inbound_line_id FROM {peg})"
    stock_params, inbound_params = [], []
    if stock_level_ids is not None:
        stock_filter = f"id IN ({placeholders(stock_level_ids) or 'NULL'})"
        stock_params = list(stock_level_ids)
    if inbound_line_ids is not None:
        inbound_filter = f"id IN ({placeholders(inbound_line_ids) or 'NULL'})"
        inbound_params = list(inbound_line_ids)
    tables = {
        "level": StockLevel._meta.db_table,
        "inbound": InboundLine._meta.db_table,
        "allocation": Allocation._meta.db_table,
        "peg": BackorderPeg._meta.db_table,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            (
                "UPDATE {level} SET allocated = (SELECT COALESCE(SUM(a.quantity), 0) "
                "FROM {allocation} a WHERE a.stock_level_id = {level}.id) WHERE " + stock_filter
            ).format(**tables),
            stock_params,
        )
        cursor.execute(
            (
                "UPDATE {inbound} SET promised = (SELECT COALESCE(SUM(p.quantity), 0) "
                "FROM {peg} p WHERE p.inbound_line_id = {inbound}.id) WHERE " + inbound_filter
            ).format(**tables),
            inbound_params,
        )

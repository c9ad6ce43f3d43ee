"""Fair fill: pairs that become free go to the waiting backorders of their SKU, oldest
order first, whichever run those were pegged to; the capacity they held on runs is
released and the lines still waiting move to the earliest run that can hold them. Only
what is left reaches ATS. Also the moves a slip or a cancelled run makes: lines first go
to earlier runs with room."""

import datetime as dt
from collections import defaultdict

from inventory.exceptions import InboundOverPromised
from orders.ledger.book import Book, oldest_first


def waiting_by_sku(book: Book, sku_ids) -> dict[int, list]:
    """Each SKU's waiting lines, oldest order first, read in one pass over the book, not
    one per SKU (a run's ETA change spans thousands of SKUs and tens of thousands of
    lines). The passes below work one SKU at a time and change only that SKU's lines, so
    each list is what a read at the start of its SKU's turn would find."""
    wanted = set(sku_ids)
    grouped = defaultdict(list)
    for line in book.lines.values():
        if line.sku_id in wanted and line.backordered > 0:
            grouped[line.sku_id].append(line)
    for lines in grouped.values():
        lines.sort(key=oldest_first)
    return grouped


def fill(book: Book, *, sku_ids, first_inbound=()) -> dict[int, int]:
    """Give each level's free pairs (above its holdback) to the waiting lines of its SKU,
    oldest order first; a filled line gives up its pegs (those on `first_inbound` first,
    then the latest ETA). Returns {line id: pairs filled}."""
    filled = defaultdict(int)
    waiting = waiting_by_sku(book, sku_ids)
    levels_by_sku = defaultdict(list)
    for level in book.levels.values():
        levels_by_sku[level.sku_id].append(level)
    for sku_id in sorted(set(sku_ids)):
        levels = sorted(
            levels_by_sku[sku_id], key=lambda level: (not level.warehouse.is_default, level.pk)
        )
        for line in waiting[sku_id]:
            for level in levels:
                take = min(line.backordered, book.free(level))
                if take <= 0:
                    continue
                book.unpeg(line, take, first=first_inbound)
                book.allocate(line, level, take)
                book.split(line, backordered=-take, allocated=take)
                filled[line.pk] += take
                if not line.backordered:
                    break
    return dict(filled)


def rehome(book: Book, *, inbound_line_ids) -> dict[int, dt.date]:
    """Move pegs off inbound lines that now bring fewer pairs than they promised (a
    receipt went to older backorders): the youngest lines leave first, each to the
    earliest other run with room, inside its window when one is. Returns {line id:
    new expected ETA} for the lines moved."""
    moved = {}
    # Who holds each inbound line, read once: a line gains pegs below only on a slot with
    # room, which then never falls short, so the short slots' holders stay these.
    holders_of = defaultdict(list)
    for line_id, peg_inbound in book.pegs:
        holders_of[peg_inbound].append(line_id)
    for inbound_id in inbound_line_ids:
        slot = book.slot(inbound_id)
        if slot is None or slot.free >= 0:
            continue
        holders = sorted(
            (book.lines[line_id] for line_id in holders_of[inbound_id]),
            key=oldest_first,
            reverse=True,
        )
        for line in holders:
            if slot.free >= 0:
                break
            take = min(book.pegs[(line.pk, inbound_id)], -slot.free)
            book._peg_take(line.pk, inbound_id, take)
            others = [s for s in book.slots[line.sku_id] if s.inbound_line_id != inbound_id]
            inside = [
                s
                for s in others
                if line.window_end is None or book.ships_by(line, s.eta) <= line.window_end
            ]
            for candidate in [*inside, *others]:
                give = min(take, max(candidate.free, 0))
                if give:
                    book.peg(line, candidate.inbound_line_id, give)
                    moved[line.pk] = candidate.eta
                    take -= give
                if not take:
                    break
            if take:
                raise InboundOverPromised(f"No run can hold {take} pairs of line {line.pk}.")
    return moved


def repeg_earlier(book: Book, *, sku_ids, only_lines=None) -> dict[int, dt.date]:
    """Move waiting lines, oldest order first, from their latest runs to earlier runs
    with room (moving earlier never pushes a line out of its window). Only `only_lines`
    when given. Returns {line id: its latest ETA now} for the lines moved."""
    moved = {}
    waiting = waiting_by_sku(book, sku_ids)
    for sku_id in sorted(set(sku_ids)):
        for line in waiting[sku_id]:
            if only_lines is not None and line.pk not in only_lines:
                continue
            for inbound_id, held in book.line_pegs(line.pk):
                current = book.slot(inbound_id)
                current_eta = current.eta if current else dt.date.max
                for slot in book.slots[sku_id]:
                    if slot.eta >= current_eta or not held:
                        break
                    take = min(slot.free, held)
                    if take <= 0:
                        continue
                    book._peg_take(line.pk, inbound_id, take)
                    book.peg(line, slot.inbound_line_id, take)
                    held -= take
                    moved[line.pk] = True
            if line.pk in moved:
                moved[line.pk] = _latest_eta(book, line.pk)
    return moved


def repeg_oldest_first(book: Book, *, sku_ids) -> dict[int, dt.date]:
    """Where a younger waiting line holds an earlier run than an older one waits for,
    swap them (pairs for pairs), as long as the younger line's new run still ships
    inside its window: the oldest order waits for the earliest run. Returns {line id:
    its latest ETA now} for the lines moved."""
    moved = set()
    waiting = waiting_by_sku(book, sku_ids)
    for sku_id in sorted(set(sku_ids)):
        lines = waiting[sku_id]
        for index, older in enumerate(lines):
            for younger in reversed(lines[index + 1 :]):
                while _swap(book, older=older, younger=younger):
                    moved.update((older.pk, younger.pk))
    return {line_id: _latest_eta(book, line_id) for line_id in moved}


def _swap(book: Book, *, older, younger) -> bool:
    """Swap the older line's latest peg with the younger's earliest earlier one; False
    when there is nothing to swap."""
    older_pegs = book.line_pegs(older.pk)
    younger_pegs = sorted(book.line_pegs(younger.pk), key=lambda peg: book._eta_of(peg[0]))
    if not older_pegs or not younger_pegs:
        return False
    late_inbound, late_qty = older_pegs[0]
    late_eta = book._eta_of(late_inbound)
    for early_inbound, early_qty in younger_pegs:
        early_eta = book._eta_of(early_inbound)
        if early_eta >= late_eta:
            return False
        if younger.window_end and book.ships_by(younger, late_eta) > younger.window_end:
            return False
        take = min(late_qty, early_qty)
        book._peg_take(older.pk, late_inbound, take)
        book._peg_take(younger.pk, early_inbound, take)
        book.peg(older, early_inbound, take)
        book.peg(younger, late_inbound, take)
        return True
    return False


def _latest_eta(book: Book, line_id) -> dt.date | None:
    return max((book._eta_of(inbound) for inbound, _ in book.line_pegs(line_id)), default=None)

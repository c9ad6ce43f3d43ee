"""The ledger's working copy: the allocations and pegs of a set of locked lines, the
counters of the stock levels and inbound lines they touch, changed in memory by the
verbs and written at the end in a fixed number of set-based statements.

Writes run in the lock order: stock counters (StockLevel), then inbound counters
(InboundLine: promises taken back before pairs are received, new promises last, so no
statement passes the table's check constraints), then the rows (Allocation,
BackorderPeg) and the lines' quantity splits."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection

from inventory import selectors as inventory_selectors
from inventory.exceptions import InboundOverPromised, InsufficientStock
from inventory.models import OPEN_INBOUND_STATUSES, InboundLine, StockLevel
from inventory.sql import ids_in, values_table
from orders.ledger import counters
from orders.models import Allocation, BackorderPeg, OrderLine

SPLIT_FIELDS = ["allocated", "backordered", "shipped", "cancelled"]
NEWEST = dt.datetime.max.replace(tzinfo=dt.UTC)
LINE_FIELDS = [*SPLIT_FIELDS, "cancel_reason", "window_end", "communicated_date"]


@dataclass
class Slot:
    """An open inbound line as the book sees it: what it still brings unpromised."""

    inbound_line_id: int
    sku_id: int
    run_id: int
    eta: dt.date
    free: int


def oldest_first(line: OrderLine):
    """Queue order: when the line's pairs were asked for (a line added to a placed order
    queues from when it was added), then the order, then the line."""
    return (line.queued_at or line.order.placed_at, line.order_id, line.pk)


class Book:
    def __init__(self, *, lines, today: dt.date):
        self.today = today
        self.lines = {line.pk: line for line in lines}
        self.pegs: dict[tuple[int, int], int] = {}  # (line id, inbound line id) -> pairs
        self.allocations: dict[tuple[int, int], int] = {}  # (line id, level id) -> pairs
        self._pegs_before: dict[tuple[int, int], int] = {}
        self._allocations_before: dict[tuple[int, int], int] = {}
        self.allocated = defaultdict(int)  # level id -> change
        self.shipped = defaultdict(int)  # level id -> pairs out
        self.put_away = defaultdict(int)  # level id -> pairs in
        self.promised = defaultdict(int)  # inbound line id -> change
        self.received = defaultdict(int)  # inbound line id -> pairs in
        self.slots: dict[int, list[Slot]] = defaultdict(list)  # sku id -> by ETA
        self.levels: dict[int, StockLevel] = {}
        # Indexes over the two maps above, so a verb over thousands of lines stays linear.
        self._slot_by_id: dict[int, Slot] = {}
        self._inbounds_of: dict[int, set[int]] = defaultdict(set)  # line id -> inbound ids
        self._levels_of: dict[int, set[int]] = defaultdict(set)  # line id -> level ids
        self.touched: set[int] = set()
        self._allocation_created: dict[tuple[int, int], dt.datetime] = {}
        self._load(self.lines)

    # --- reading -----------------------------------------------------------------

    def _load(self, lines) -> None:
        if not lines:
            return
        for line_id, inbound_id, quantity in BackorderPeg.objects.filter(
            ids_in("line_id", lines)
        ).values_list("line_id", "inbound_line_id", "quantity"):
            self.pegs[(line_id, inbound_id)] = quantity
            self._pegs_before[(line_id, inbound_id)] = quantity
            self._inbounds_of[line_id].add(inbound_id)
        for line_id, level_id, quantity, created in Allocation.objects.filter(
            ids_in("line_id", lines)
        ).values_list("line_id", "stock_level_id", "quantity", "created_at"):
            self.allocations[(line_id, level_id)] = quantity
            self._allocations_before[(line_id, level_id)] = quantity
            self._levels_of[line_id].add(level_id)
            self._allocation_created[(line_id, level_id)] = created

    def add_lines(self, lines) -> None:
        new = {line.pk: line for line in lines if line.pk not in self.lines}
        self.lines.update(new)
        self._load(new)

    def use_levels(self, levels) -> None:
        """Stock levels locked by the caller, counters fresh."""
        for level in levels:
            self.levels[level.pk] = level

    def use_open_inbound(self, inbound_lines) -> None:
        """Open inbound lines locked by the caller, as rows with their pk, run_id, sku_id,
        quantity, received and promised (inventory.locks.open_inbound_rows_lock)."""
        etas = inventory_selectors.run_etas(run_ids={line.run_id for line in inbound_lines})
        for line in inbound_lines:
            if line.pk in self._slot_by_id:
                continue
            slot = Slot(
                line.pk,
                line.sku_id,
                line.run_id,
                etas[line.run_id],
                line.quantity - line.received - line.promised,
            )
            self._slot_by_id[line.pk] = slot
            self.slots[line.sku_id].append(slot)
        for slots in self.slots.values():
            slots.sort(key=lambda slot: (slot.eta, slot.inbound_line_id))

    def slot(self, inbound_line_id) -> Slot | None:
        return self._slot_by_id.get(inbound_line_id)

    def free(self, level: StockLevel) -> int:
        """Pairs of a level above its holdback that nobody holds, after this book."""
        on_hand = level.on_hand + self.put_away[level.pk] - self.shipped[level.pk]
        return max(on_hand - level.allocated - self.allocated[level.pk] - level.holdback, 0)

    def line_pegs(self, line_id) -> list[tuple[int, int]]:
        """(inbound line id, pairs) of a line, latest ETA first."""
        pegs = [(inbound, self.pegs[(line_id, inbound)]) for inbound in self._inbounds_of[line_id]]
        return sorted(pegs, key=lambda peg: (self._eta_of(peg[0]), peg[0]), reverse=True)

    def _eta_of(self, inbound_line_id) -> dt.date:
        slot = self.slot(inbound_line_id)
        return slot.eta if slot else dt.date.max

    def ships_by(self, line, eta) -> dt.date:
        return inventory_selectors.ship_date_from_run(
            eta=eta, terms=line.order.terms, today=self.today
        )

    # --- moving pairs --------------------------------------------------------------

    def peg(self, line, inbound_line_id, quantity) -> None:
        """Promise `quantity` of an inbound line to the line (the pairs are already
        counted backordered on it)."""
        if quantity <= 0:
            return
        slot = self.slot(inbound_line_id)
        if slot is None or slot.free < quantity:
            raise InboundOverPromised(f"Inbound line {inbound_line_id} cannot take {quantity}.")
        slot.free -= quantity
        key = (line.pk, inbound_line_id)
        self.pegs[key] = self.pegs.get(key, 0) + quantity
        self._inbounds_of[line.pk].add(inbound_line_id)
        self.promised[inbound_line_id] += quantity

    def unpeg(self, line, quantity, *, first=()) -> int:
        """Take up to `quantity` pairs off the line's pegs: the inbound lines in `first`
        before the others, then the latest ETA first. Returns the pairs taken."""
        pegs = self.line_pegs(line.pk)
        pegs.sort(key=lambda peg: peg[0] not in first)
        remaining = quantity
        for inbound_id, held in pegs:
            take = min(held, remaining)
            if not take:
                break
            self._peg_take(line.pk, inbound_id, take)
            remaining -= take
        return quantity - remaining

    def _peg_take(self, line_id, inbound_id, take) -> None:
        key = (line_id, inbound_id)
        self.pegs[key] -= take
        if not self.pegs[key]:
            del self.pegs[key]
            self._inbounds_of[line_id].discard(inbound_id)
        self.promised[inbound_id] -= take
        slot = self.slot(inbound_id)
        if slot is not None:
            slot.free += take

    def allocate(self, line, level, quantity) -> None:
        key = (line.pk, level.pk)
        self.allocations[key] = self.allocations.get(key, 0) + quantity
        self._levels_of[line.pk].add(level.pk)
        self.allocated[level.pk] += quantity

    def unallocate(self, line, quantity, *, oldest_first=False, level_ids=None) -> dict[int, int]:
        """Take pairs off the line's allocations, newest first (oldest first for a
        shipment), only from `level_ids` when given. Returns {level id: pairs}."""
        held = [
            ((line.pk, level_id), self.allocations[(line.pk, level_id)])
            for level_id in self._levels_of[line.pk]
            if level_ids is None or level_id in level_ids
        ]
        held.sort(key=lambda item: (self._created(item[0]), item[0][1]), reverse=not oldest_first)
        taken, remaining = {}, quantity
        for key, qty in held:
            take = min(qty, remaining)
            if not take:
                break
            self.allocations[key] -= take
            if not self.allocations[key]:
                del self.allocations[key]
                self._levels_of[line.pk].discard(key[1])
            self.allocated[key[1]] -= take
            taken[key[1]] = take
            remaining -= take
        if remaining:
            raise InsufficientStock(line.sku_id, quantity, quantity - remaining)
        return taken

    def _created(self, key) -> dt.datetime:
        """When an allocation was made; one made by this book is the newest."""
        return self._allocation_created.get(key, NEWEST)

    def split(self, line, **changes) -> None:
        """Move the line's quantity split (e.g. backordered=-3, allocated=+3); the sum
        ordered = allocated + backordered + shipped + cancelled must hold."""
        assert sum(changes.values()) == 0, changes
        for name, change in changes.items():
            setattr(line, name, getattr(line, name) + change)
            if getattr(line, name) < 0:
                raise InsufficientStock(line.sku_id, -change, getattr(line, name) - change)
        if line.backordered == 0:
            line.window_end = None
        self.touched.add(line.pk)

    def touch(self, line) -> None:
        self.touched.add(line.pk)

    # --- writing -------------------------------------------------------------------

    def write(self) -> None:
        stock_up = {pk: q for pk, q in self.allocated.items() if q > 0}
        stock_down = {pk: -q for pk, q in self.allocated.items() if q < 0}
        shipped = {pk: q for pk, q in self.shipped.items() if q}
        counters.stock_release_many(quantities=stock_down)
        counters.stock_ship_many(quantities=shipped)
        counters.stock_put_away_many(quantities=self.put_away)
        if stock_up:
            counters.stock_allocate_many(
                takes=[(self._level(pk), q) for pk, q in sorted(stock_up.items())]
            )
        counters.inbound_unpromise_many(
            quantities={pk: -q for pk, q in self.promised.items() if q < 0}
        )
        counters.inbound_receive_many(quantities=self.received)
        counters.inbound_promise_many(
            quantities={pk: q for pk, q in self.promised.items() if q > 0}
        )
        _rows_write(
            model=BackorderPeg,
            target="inbound_line_id",
            before=self._pegs_before,
            after=self.pegs,
        )
        _rows_write(
            model=Allocation,
            target="stock_level_id",
            before=self._allocations_before,
            after=self.allocations,
        )
        lines = [self.lines[pk] for pk in sorted(self.touched)]
        if lines:
            OrderLine.objects.bulk_update(lines, LINE_FIELDS)
        self._pegs_before = dict(self.pegs)
        self._allocations_before = dict(self.allocations)
        for mapping in (self.allocated, self.shipped, self.put_away, self.promised, self.received):
            mapping.clear()

    def _level(self, pk) -> StockLevel:
        level = self.levels.get(pk)
        if level is None:
            level = StockLevel.objects.get(pk=pk)
            self.levels[pk] = level
        return level


def _rows_write(*, model, target, before, after) -> None:
    """Bring the rows of `model` ((line id, target id) -> quantity) from `before` to
    `after`: one DELETE, one UPDATE and one INSERT at most."""
    gone = [key for key in before if key not in after]
    changed = {key: qty for key, qty in after.items() if key in before and before[key] != qty}
    new = [key for key in after if key not in before]
    if gone:
        table, params = values_table("gone", ["gone_line", "gone_target"], gone)
        with connection.cursor() as cursor:
            cursor.execute(
                f"{table}DELETE FROM {model._meta.db_table} WHERE (line_id, {target}) IN "
                "(SELECT gone_line, gone_target FROM gone)",
                params,
            )
    if changed:
        table, params = values_table(
            "changed",
            ["changed_line", "changed_target", "changed_quantity"],
            [(line_id, target_id, qty) for (line_id, target_id), qty in changed.items()],
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"{table}UPDATE {model._meta.db_table} AS row SET quantity = "
                "changed.changed_quantity FROM changed WHERE row.line_id = "
                f"changed.changed_line AND row.{target} = changed.changed_target",
                params,
            )
    if new:
        model.objects.bulk_create(
            [
                model(line_id=line_id, quantity=after[(line_id, target_id)], **{target: target_id})
                for line_id, target_id in new
            ]
        )


def open_inbound_of(*, sku_ids) -> list[InboundLine]:
    return list(
        InboundLine.objects.filter(sku_id__in=sku_ids, run__status__in=OPEN_INBOUND_STATUSES)
        .select_related("run")
        .order_by("pk")
    )

"""The allocation ledger: the one module that writes StockLevel.on_hand / allocated,
InboundLine.promised / received, Allocation and BackorderPeg rows, and the quantity
split of order lines (ordered = allocated + backordered + shipped + cancelled).
tests/test_architecture.py fails if any other module writes them.

Verbs (each inside its caller's transaction; docs/ARCHITECTURE.md describes them):
    lines_place        new lines, allocated from stock and pegged to runs (placement)
    cancel             a retailer's or service's cancellation; freed stock is filled
    backorders_cancel  backordered pairs cancelled by the brand (sweep, run, decision)
    ship               allocated pairs leave the warehouse
    receive            a run's pairs arrive: fair fill, then re-peg
    counts_set         warehouse counts: shortages give way newest first, surpluses fill
    free_fill          pairs freed by a lowered holdback fill waiting backorders
    repeg              a run slipped or was cancelled: its lines move to runs with room
                       (repeg_lines_lock: the lines it can reach, orders.ledger.reach)
    dates_told         the dates lines were told (an ETA change's news)
    stock_levels_open, history_load, counters_derive   the demo data and repairs

Lock order, everywhere in the project (rows of one table by pk):
    run-ETA advisory locks (inventory.locks: run_etas_share_lock, run_eta_lock)
    -> Order -> OrderLine -> StockLevel -> InboundRun -> InboundLine
    -> this project's later rows (decision requests, invoices, document counters).
Waiting pairs are served in queue order (oldest_first: when they were asked for).
A verb that frees pairs locks the SKUs' waiting lines together with its own lines
(lines_lock, one statement), before any stock level."""

from orders.ledger.book import oldest_first
from orders.ledger.verbs import (
    CountResult,
    Filled,
    ShortageOutcome,
    backorders_cancel,
    cancel,
    counters_derive,
    counts_set,
    dates_told,
    free_fill,
    history_load,
    lines_lock,
    lines_place,
    receive,
    repeg,
    repeg_lines_lock,
    ship,
    stock_levels_open,
)

__all__ = [
    "CountResult",
    "Filled",
    "ShortageOutcome",
    "backorders_cancel",
    "cancel",
    "counters_derive",
    "counts_set",
    "dates_told",
    "free_fill",
    "history_load",
    "lines_lock",
    "lines_place",
    "oldest_first",
    "receive",
    "repeg",
    "repeg_lines_lock",
    "ship",
    "stock_levels_open",
]

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from inventory import imports, services
from inventory.exceptions import StockShortage
from inventory.management.csv_command import CsvImportCommand


def stock_sync_service():
    """backorders.services.stock_sync, which resolves shortages (moves the newest
    allocations to backorder or cancels them, and tells the retailers), if installed."""
    try:
        from backorders.services import stock_sync
    except ImportError:
        return None
    return stock_sync


class Command(CsvImportCommand):
    help = (
        "Set absolute on-hand counts from a CSV with the columns sku, on_hand and optionally "
        "warehouse (the default warehouse when empty). A count below what is allocated is "
        "a shortage: it goes through the backorders stock sync, which moves the newest "
        "allocations to backorder or cancels them. Every row is checked first; if any row "
        "is bad nothing is imported."
    )

    def validate(self, data, progress):
        plan = imports.stock_validate(data, progress)
        if plan.shortfalls and stock_sync_service() is None:
            for shortfall in plan.shortfalls:
                plan.validation.add(
                    shortfall.row,
                    "on_hand",
                    f"{shortfall.on_hand} is below the {shortfall.allocated} pairs allocated "
                    f"at {shortfall.warehouse_code}; the shortage resolution "
                    "(backorders stock sync) is not available.",
                )
        return plan

    def summary(self, plan):
        note = ""
        if plan.shortfalls:
            short = sum(s.allocated - s.on_hand for s in plan.shortfalls)
            note = (
                f" {len(plan.shortfalls)} count(s) are below what is allocated: {short} "
                "allocated pair(s) would move to backorder or be cancelled."
            )
        return f"{len(plan.counts)} stock level(s) would be set.{note}"

    def write(self, plan, progress):
        stock_sync = stock_sync_service()
        try:
            if stock_sync is not None:
                from backorders.services import StockCountRequest

                result = stock_sync(
                    counts=[
                        StockCountRequest(sku=row.sku, on_hand=row.on_hand, warehouse=row.warehouse)
                        for row in plan.requests
                    ],
                    user=None,
                )
                progress(len(plan.counts))
                return (
                    f"{result.created} level(s) created, {result.changed} changed, "
                    f"{result.unchanged} unchanged; shortages: {result.backordered} pair(s) "
                    f"moved to backorder, {result.cancelled} cancelled."
                )
            result = services.stock_counts_set(counts=plan.counts, progress=progress)
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                index, _, column = key.partition("].")
                row = plan.rows[int(index[1:])] if index[1:].isdigit() else "-"
                for message in messages:
                    self.stderr.write(f"row {row}, column {column or key}: {message}")
            raise CommandError("Stock changed while importing; nothing was imported.") from None
        except StockShortage as error:
            for shortage in error.shortages:
                self.stderr.write(
                    f"row {plan.rows[shortage.index]}, column on_hand: {shortage.on_hand} is "
                    f"below the {shortage.allocated} pairs allocated."
                )
            raise CommandError("Stock changed while importing; nothing was imported.") from None
        return (
            f"{result.created} level(s) created, {result.changed} changed, "
            f"{result.unchanged} unchanged."
        )

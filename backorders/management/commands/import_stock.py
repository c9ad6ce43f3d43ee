from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from backorders.services import StockCountRequest, stock_sync
from inventory import imports
from inventory.management.csv_command import CsvImportCommand
from inventory.parsing import natural_number


class Command(CsvImportCommand):
    help = (
        "Set absolute on-hand counts from a CSV with the columns sku, on_hand and optionally "
        "warehouse (the default warehouse when empty). A count below what is allocated is "
        "a shortage: the stock sync moves the newest allocations to backorder or cancels "
        "them, and tells the retailers. Every row is checked first; if any row is bad "
        "nothing is imported."
    )

    def validate(self, data, progress):
        return imports.stock_validate(data, progress)

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
        try:
            result = stock_sync(
                counts=[
                    StockCountRequest(sku=row.sku, on_hand=row.on_hand, warehouse=row.warehouse)
                    for row in plan.requests
                ],
                user=None,
            )
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                index, _, column = key.partition("].")
                position = natural_number(index[1:])
                row = plan.rows[position] if position is not None else "-"
                for message in messages:
                    self.stderr.write(f"row {row}, column {column or key}: {message}")
            raise CommandError("Stock changed while importing; nothing was imported.") from None
        progress(len(plan.counts))
        return (
            f"{result.created} level(s) created, {result.changed} changed, "
            f"{result.unchanged} unchanged; shortages: {result.backordered} pair(s) "
            f"moved to backorder, {result.cancelled} cancelled."
        )

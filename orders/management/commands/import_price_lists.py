from django.core.management.base import CommandError
from django.db import IntegrityError

from inventory.management.csv_command import CsvImportCommand
from orders.price_imports import price_lists_validate
from orders.services.pricing import price_lists_import


class Command(CsvImportCommand):
    help = (
        "Create or update price lists from a CSV with the columns price_list, name, "
        "starts_on, style, sku, price and optionally percent_off, ends_on, accounts. A row "
        "without style and sku is the list itself (accounts: account numbers separated by "
        "spaces); a row with a style or a SKU is an explicit price (an empty price removes "
        "it). Every row is checked first; if any row is bad nothing is imported."
    )

    def validate(self, data, progress):
        return price_lists_validate(data, progress)

    def summary(self, plan):
        return f"{len(plan.lists)} list(s) and {len(plan.prices)} price(s) would be written."

    def write(self, plan, progress):
        try:
            result = price_lists_import(lists=plan.lists, prices=plan.prices, progress=progress)
        except IntegrityError as error:
            raise CommandError(
                f"The price lists changed while importing ({error.__class__.__name__}); "
                "nothing was imported. Run the import again."
            ) from None
        return (
            f"Lists: {result.lists_created} created, {result.lists_updated} updated, "
            f"{result.assignments_added} account assignment(s) added. Prices: "
            f"{result.prices_set} set, {result.prices_removed} removed."
        )

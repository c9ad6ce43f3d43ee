from django.core.management.base import CommandError
from django.db import IntegrityError

from inventory import imports, services
from inventory.management.csv_command import CsvImportCommand


class Command(CsvImportCommand):
    help = (
        "Create or update styles and SKUs from a CSV with the columns style_number, "
        "style_name, category, replenishment, lead_time_days, sku, color, size, width, upc, "
        "price, msrp and optionally season (a season's code), active, core, quick_ship. "
        "Every row is checked first; "
        "if any row is bad nothing is imported."
    )

    def validate(self, data, progress):
        return imports.catalog_validate(data, progress)

    def summary(self, plan):
        styles = len({row.style_number for row in plan.rows})
        return f"{styles} style(s), {len(plan.rows)} SKU(s) would be created or updated."

    def write(self, plan, progress):
        try:
            result = services.catalog_import(rows=plan.rows, progress=progress)
        except IntegrityError as error:
            raise CommandError(
                f"The catalogue changed while importing ({error.__class__.__name__}); "
                "nothing was imported. Run the import again."
            ) from None
        return (
            f"Styles: {result.styles_created} created, {result.styles_updated} updated. "
            f"SKUs: {result.skus_created} created, {result.skus_updated} updated."
        )

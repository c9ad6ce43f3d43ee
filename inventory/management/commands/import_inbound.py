from django.core.management.base import CommandError

from inventory import imports, services
from inventory.exceptions import InventoryInputError
from inventory.management.csv_command import CsvImportCommand


class Command(CsvImportCommand):
    help = (
        "Create or update inbound runs (production lots / purchase orders) from a CSV with "
        "one row per run line: reference, eta, sku, quantity and optionally factory, "
        "warehouse, status. Runs are matched by reference; lines by SKU. The ETA of an "
        "existing run is never changed by this import: a row whose ETA differs is reported "
        "as an error, because an ETA moves only through the ETA change, with a reason "
        '(admin action "Change ETA" or POST /api/v1/inbound/<reference>/eta/), so the '
        "retailers waiting on the run are told. Every row is checked first; if any row is "
        "bad nothing is imported."
    )

    def validate(self, data, progress):
        return imports.inbound_validate(data, progress)

    def summary(self, plan):
        return f"{plan.created} run(s) would be created and {plan.updated} updated."

    def write(self, plan, progress):
        try:
            results = services.inbound_runs_upsert(runs=plan.runs, progress=progress)
        except InventoryInputError as error:
            for key, messages in error.message_dict.items():
                for message in messages:
                    self.stderr.write(f"{key}: {message}")
            raise CommandError("The runs changed while importing; nothing was imported.") from None
        created = sum(result.created for result in results)
        return f"Runs: {created} created, {len(results) - created} updated."

import csv
import io
import sys
from collections import defaultdict
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from orders.models import Order
from orders.services.fulfilment import shipment_confirm, shipment_validate

COLUMNS = ("order", "carrier", "tracking", "sku", "quantity")
MAX_ROWS = 50_000


class Command(BaseCommand):
    help = (
        "Confirm warehouse shipments from a CSV with the columns order, carrier, tracking, "
        "sku, quantity: one row per SKU; rows with the same order and tracking form one "
        "shipment (and its invoice). Each shipment is checked and written on its own: a bad "
        "one is reported by row and skipped, the good ones are confirmed. A shipment already "
        "confirmed with the same tracking is not shipped twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help='CSV file (UTF-8); "-" for stdin.')
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and report; write nothing."
        )
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args, path, dry_run, no_progress, **options):
        rows = self._rows(path)
        groups = defaultdict(list)  # (order, tracking) -> [(row number, row)]
        errors = []
        for number, row in rows:
            missing = [c for c in ("order", "carrier", "tracking", "sku") if not row.get(c)]
            if missing:
                errors.extend(f"row {number}, column {c}: required." for c in missing)
                continue
            groups[(row["order"], row["tracking"])].append((number, row))

        orders = {
            o.number: o
            for o in Order.objects.select_related("account").filter(
                number__in={order for order, _ in groups}
            )
        }
        confirmed = skipped = 0
        with tqdm(
            total=len(groups), desc="Shipments", file=sys.stderr, disable=no_progress, leave=False
        ) as bar:
            for (order_number, tracking), group in groups.items():
                bar.update(1)
                order = orders.get(order_number)
                if order is None:
                    errors.append(f"row {group[0][0]}, column order: no order {order_number!r}.")
                    skipped += 1
                    continue
                carriers = {row["carrier"] for _, row in group}
                if len(carriers) > 1:
                    errors.append(
                        f"row {group[0][0]}, column carrier: one shipment with carriers "
                        f"{', '.join(sorted(carriers))}."
                    )
                    skipped += 1
                    continue
                kwargs = {
                    "order": order,
                    "carrier": group[0][1]["carrier"],
                    "tracking": tracking,
                    "lines": [(row["sku"], row.get("quantity")) for _, row in group],
                }
                try:
                    if dry_run:
                        shipment_validate(**kwargs)
                    else:
                        shipment_confirm(**kwargs, user=None)
                except ValidationError as error:
                    errors.extend(self._row_errors(error, group))
                    skipped += 1
                    continue
                confirmed += 1
        for error in errors:
            self.stderr.write(error)
        verb = "would be confirmed" if dry_run else "confirmed"
        summary = f"{confirmed} shipment(s) {verb}, {skipped} skipped."
        if dry_run:
            summary += " Nothing was written."
        if errors:
            raise CommandError(f"{len(errors)} problem(s). {summary}")
        self.stdout.write(self.style.SUCCESS(summary))

    def _rows(self, path):
        try:
            data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CommandError("The file is not UTF-8 text.") from None
        reader = csv.DictReader(io.StringIO(text))
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise CommandError(f"Missing column(s): {', '.join(missing)}.")
        reader.fieldnames = header
        rows = []
        for index, row in enumerate(reader, start=2):
            if index - 1 > MAX_ROWS:
                raise CommandError(f"At most {MAX_ROWS} rows per file.")
            clean = {k: (v or "").strip() for k, v in row.items() if k}
            if any(clean.values()):
                rows.append((index, clean))
        return rows

    @staticmethod
    def _row_errors(error, group):
        """Map the service's "lines[i].quantity" keys back to CSV row numbers."""
        messages = []
        for key, texts in error.message_dict.items():
            row_number, column = group[0][0], key
            if key.startswith("lines[") and "]" in key:
                index = int(key[6 : key.index("]")])
                row_number, column = group[index][0], key.split(".", 1)[-1]
            messages.extend(f"row {row_number}, column {column}: {text}" for text in texts)
        return messages

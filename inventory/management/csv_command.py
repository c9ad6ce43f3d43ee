"""What the three CSV import commands share: reading the file, the progress bar, the
per-row error report, --dry-run, and "nothing is imported if any row is bad"."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from inventory.imports import CsvFileError, read_csv


class CsvImportCommand(BaseCommand):
    feed = "rows"

    def add_arguments(self, parser):
        parser.add_argument("path", help='CSV file (UTF-8, "," or ";" delimited); "-" for stdin.')
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and report; write nothing."
        )
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args, path, dry_run, no_progress, **options):
        self.no_progress = no_progress
        data = self.read(path)
        try:
            _, rows = read_csv(data)
            with self.bar(len(rows), "Checking") as bar:
                plan = self.validate(data, bar.update)
        except CsvFileError as error:
            self.report(error.errors)
            raise CommandError("The file cannot be imported; nothing was imported.") from None
        errors = plan.validation.errors
        if errors:
            self.report(errors)
            raise CommandError(
                f"{plan.validation.bad_rows} bad row(s), {len(errors)} problem(s); "
                "nothing was imported."
            )
        if dry_run:
            self.stdout.write(f"Dry run: {len(rows)} row(s) are valid. {self.summary(plan)}")
            self.stdout.write("Nothing was written.")
            return
        with self.bar(len(rows), "Importing") as bar:
            result = self.write(plan, bar.update)
        self.stdout.write(self.style.SUCCESS(f"Imported {len(rows)} row(s). {result}"))

    def read(self, path) -> bytes:
        if path == "-":
            return sys.stdin.buffer.read()
        try:
            return Path(path).read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None

    def bar(self, total, description):
        return tqdm(
            total=total,
            desc=description,
            unit=" rows",
            file=sys.stderr,
            disable=self.no_progress,
            leave=False,
        )

    def report(self, errors):
        for error in sorted(errors):
            self.stderr.write(str(error))

    def validate(self, data, progress):
        raise NotImplementedError

    def summary(self, plan) -> str:
        return ""

    def write(self, plan, progress) -> str:
        raise NotImplementedError

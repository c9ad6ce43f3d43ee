import time

from django.core.management.base import BaseCommand, CommandError

from portal.demo import demo_seed, iter_login_lines


class Command(BaseCommand):
    help = (
        "Load deterministic demo data for Trailwise (catalogue, stock, production calendar, "
        "retailers, staff and an order history). Safe to run again: it only adds what is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=int,
            default=1,
            help="Multiply styles, SKUs, accounts and orders (1: ~3,000 SKUs and 25 accounts).",
        )
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bars.")

    def handle(self, *args, scale, no_progress, **options):
        if scale < 1:
            raise CommandError("--scale must be 1 or more.")
        started = time.monotonic()
        report = demo_seed(scale=scale, progress=not no_progress)
        elapsed = time.monotonic() - started
        added = {name: n for name, n in report.created.items() if n}
        if added:
            self.stdout.write("Added: " + ", ".join(f"{n:,} {name}" for name, n in added.items()))
        else:
            self.stdout.write("Demo data already present: nothing changed.")
        if report.orders_skipped:
            self.stdout.write("The order history exists already and was left as it is.")
        self.stdout.write(f"Done in {elapsed:.1f}s (scale {scale}).")
        self.stdout.write("")
        for line in iter_login_lines(report):
            self.stdout.write(line)

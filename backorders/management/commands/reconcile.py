from django.core.management.base import BaseCommand

from backorders.services import reconcile


class Command(BaseCommand):
    help = (
        "Recompute StockLevel.allocated from allocations and InboundLine.promised from pegs; "
        "report drift (and repair it unless --dry-run)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report only, change nothing.")

    def handle(self, *args, dry_run=False, **options):
        report = reconcile(repair=not dry_run)
        for drift in report.drifts:
            state = "repaired" if drift.repaired else "not repaired"
            self.stdout.write(
                f"{drift.kind} #{drift.pk}: recorded {drift.recorded}, "
                f"expected {drift.expected} ({state})"
            )
        for line_id in report.beyond_window:
            self.stdout.write(f"line #{line_id}: promised past its backorder window")
        if report.clean:
            self.stdout.write(self.style.SUCCESS("No drift."))
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"{len(report.drifts)} drift(s), {len(report.beyond_window)} line(s) "
                    f"past their window{' (dry run: nothing changed)' if dry_run else ''}."
                )
            )

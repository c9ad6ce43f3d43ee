import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from orders.documents import documents_backlog_queue, documents_unrendered_count


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{kind} {n:,}" for kind, n in counts.items() if n) or "none"


class Command(BaseCommand):
    help = (
        "Queue the PDF render of every issued document that has none yet (after seed_demo "
        "or an import) for the Celery workers, one task each on the backlog queue, so every "
        "worker renders them side by side; a PDF someone asks for still goes first. With "
        "--wait, report progress until none are left."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--wait", action="store_true", help="Report progress until every PDF is rendered."
        )
        parser.add_argument(
            "--interval", type=float, default=5.0, help="Seconds between progress lines."
        )

    def handle(self, *args, wait, interval, **options):
        if interval <= 0:
            raise CommandError("--interval must be more than 0.")
        queued = documents_backlog_queue(older_than=dt.timedelta(0))
        counts = documents_unrendered_count()
        total = sum(counts.values())
        self.stdout.write(
            f"Documents without a PDF: {_summary(counts)}. Queued {queued:,} for the workers."
        )
        if not wait:
            if total:
                self.stdout.write("Follow them with: python manage.py render_documents --wait")
            return
        left = total
        while left:
            time.sleep(interval)
            counts = documents_unrendered_count()
            left = sum(counts.values())
            self.stdout.write(f"Rendered {total - left:,} of {total:,}; left: {_summary(counts)}")
        self.stdout.write("Every document has its PDF.")

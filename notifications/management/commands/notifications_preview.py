"""Render every message kind (HTML, text, subject) from the sample contexts into a
folder, to look at in a browser or screenshot with headless Chromium."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from notifications.kinds import MessageKind
from notifications.rendering import render_body, render_subject
from notifications.samples import SAMPLE_CONTEXTS


class Command(BaseCommand):
    help = "Render every notification kind to HTML/text files for review."

    def add_arguments(self, parser):
        parser.add_argument(
            "--out", default=str(Path(settings.BASE_DIR) / "var" / "notification-previews")
        )
        parser.add_argument("--name", default="Dana", help="Recipient's first name.")

    def handle(self, *args, out, name, **options):
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        samples = dict(SAMPLE_CONTEXTS)
        for kind, context in samples.items():
            subject = render_subject(kind=kind, context=context)
            text, html = render_body(kind=kind, context=context, recipient_name=name)
            (folder / f"{kind}.html").write_text(html)
            (folder / f"{kind}.txt").write_text(f"Subject: {subject}\n\n{text}")
            self.stdout.write(f"{MessageKind(kind).label}: {folder / (kind + '.html')}")
        # The digest: three of the above, as one user on daily digest would get them.
        items = []
        for kind in (MessageKind.ETA_MOVED, MessageKind.SHIPMENT, MessageKind.INVOICE):
            text, html = render_body(kind=kind, context=samples[kind], fragment=True)
            items.append(
                {
                    "subject": render_subject(kind=kind, context=samples[kind]),
                    "kind_label": MessageKind(kind).label,
                    "text": text,
                    "html": html,
                }
            )
        from django.utils.safestring import mark_safe

        for item in items:
            item["html"] = mark_safe(item["html"])  # our own autoescaped output
        text, html = render_body(
            kind=MessageKind.DIGEST,
            context={"count": len(items), "date": "2026-03-17", "items": items},
            recipient_name=name,
        )
        (folder / "digest.html").write_text(html)
        (folder / "digest.txt").write_text(text)
        self.stdout.write(f"Daily digest: {folder / 'digest.html'}")

from collections import Counter
from pathlib import Path

from django.core.management.base import CommandError

from inventory.image_imports import style_images_validate
from inventory.management.csv_command import CsvImportCommand
from inventory.services import style_image_put


class Command(CsvImportCommand):
    help = (
        "Put style pictures from a CSV with the columns style, color, position, alt_text and "
        "file: a path relative to --images-dir, or an absolute path or file:// URL inside it "
        "(nothing is fetched over the network). A blank colour shows for every colour. The "
        "picture at a style, colour and position is added, or replaced when its content "
        "differs, so importing a feed twice changes nothing. Every row is checked first "
        "(the style and colour exist, the file is a picture inside the directory); if any "
        "row is bad nothing is imported."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--images-dir",
            required=True,
            type=Path,
            help="The directory the pictures are in; files outside it are refused.",
        )

    def handle(self, *args, images_dir, **options):
        if not images_dir.is_dir():
            raise CommandError(f"{images_dir} is not a directory.")
        self.images_dir = images_dir
        super().handle(*args, **options)

    def validate(self, data, progress):
        return style_images_validate(data, progress, directory=self.images_dir)

    def summary(self, plan):
        return f"{len(plan.rows)} picture(s) would be put."

    def write(self, plan, progress):
        outcomes = Counter()
        for row in plan.rows:
            outcome = style_image_put(
                style=row.style,
                color=row.color,
                position=row.position,
                alt_text=row.alt_text,
                data=row.path.read_bytes(),
                filename=row.path.name,
            )
            outcomes[outcome] += 1
            progress(1)
        return (
            f"Pictures: {outcomes['added']} added, {outcomes['replaced']} replaced, "
            f"{outcomes['unchanged']} unchanged."
        )

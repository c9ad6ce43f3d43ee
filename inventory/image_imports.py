"""Reading and validating the style-picture feed (import_style_images), with the other
feeds' core (inventory.imports): every bad row reported, nothing written unless all rows
are good.

Each row puts one picture at a style's colour (blank: every colour) and position, with
its alt text, from a file in the directory the command is given: a path relative to it,
or an absolute path or a file:// URL inside it. Nothing is fetched over the network, and
a path that leads out of the directory (.., a symlink) is refused."""

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from inventory import images
from inventory.imports import (
    Column,
    Progress,
    Validation,
    check_header,
    duplicates_report,
    integer,
    read_csv,
    text,
    validate_rows,
)
from inventory.models import SKU, Style, StyleImage

MAX_FILE_BYTES = 25 * 1024 * 1024

IMAGE_COLUMNS = [
    Column("style", text(Style._meta.get_field("number").max_length, upper=True)),
    Column("color", text(StyleImage._meta.get_field("color").max_length), required=False),
    Column("position", integer(0, 999)),
    Column(
        "alt_text",
        text(StyleImage._meta.get_field("alt_text").max_length),
        required=False,
        default="",
    ),
    Column("file", text(1000)),
]


@dataclass(frozen=True)
class ImageRow:
    style: Style
    color: str
    position: int
    alt_text: str
    path: Path  # read again when written: the plan does not hold every picture at once


@dataclass
class ImagePlan:
    validation: Validation
    rows: list[ImageRow] = field(default_factory=list)


def image_path(*, raw: str, directory: Path) -> Path:
    """The file a row names, inside `directory`, or ValueError saying why not."""
    parts = urlsplit(raw)
    if parts.scheme == "file":
        raw = unquote(parts.path)
    elif parts.scheme and len(parts.scheme) > 1:  # one letter: a Windows drive, not a URL
        raise ValueError(
            f"{parts.scheme}: URLs are not fetched; put the file in the images directory."
        )
    path = (directory / raw).resolve()
    if not path.is_relative_to(directory):
        raise ValueError("The file must be inside the images directory.")
    if not path.is_file():
        raise ValueError("No such file in the images directory.")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"The file is over {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    return path


def style_images_validate(data, progress: Progress = None, *, directory: Path) -> ImagePlan:
    directory = Path(directory).resolve()
    header, rows = read_csv(data)
    check_header(header, IMAGE_COLUMNS)
    validation = validate_rows(rows, IMAGE_COLUMNS, progress)
    plan = ImagePlan(validation)
    duplicates_report(
        validation,
        lambda v: (v["style"], (v["color"] or "").casefold(), v["position"]),
        "position",
        "A picture of this style, colour and position is",
    )
    numbers = {parsed.values["style"] for parsed in validation.rows}
    styles = Style.objects.in_bulk(numbers, field_name="number")
    colors: dict[int, set[str]] = {}
    for style_id, color in SKU.objects.filter(style__in=styles.values()).values_list(
        "style_id", "color"
    ):
        colors.setdefault(style_id, set()).add(color)
    for parsed in validation.rows:
        values, row = parsed.values, parsed.row
        style = styles.get(values["style"])
        if style is None:
            validation.add(row, "style", f"No style {values['style']}.")
            continue
        color = values["color"] or ""
        if color and color not in colors.get(style.pk, set()):
            known = ", ".join(sorted(colors.get(style.pk, set()))) or "none"
            validation.add(row, "color", f"{style.number} has no colour {color!r} ({known}).")
            continue
        try:
            path = image_path(raw=values["file"], directory=directory)
            images.image_open(path.read_bytes())
        except (ValueError, OSError) as error:
            validation.add(row, "file", str(error))
            continue
        plan.rows.append(ImageRow(style, color, values["position"], values["alt_text"], path))
    return plan

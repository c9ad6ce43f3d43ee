"""Demo pictures for seed_demo, drawn with Pillow (no network): a shoe in profile and
from above, shaped by category and filled in the SKU colour. One drawing per category,
colour and view is shared by every style that needs it, so a larger --scale adds rows,
not drawings."""

import io

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw

from inventory.images import renditions
from inventory.models import SKU, Style, StyleImage

SIDE = 600
COLOUR_RGB = {
    "Black": (34, 34, 36), "Espresso": (74, 48, 36), "Cognac": (154, 84, 40),
    "Navy": (32, 48, 92), "Stone": (188, 178, 160), "Sage": (140, 160, 128),
    "Charcoal": (70, 72, 76), "Taupe": (150, 132, 116), "Oxblood": (98, 28, 36),
    "Sand": (214, 190, 150), "Olive": (98, 104, 56), "Grey Heather": (150, 152, 156),
    "White": (240, 238, 232), "Blush": (226, 178, 170), "Denim": (78, 104, 140),
    "Rust": (168, 80, 44),
}  # fmt: skip
# Height of the upper above the sole (fraction of the drawing) and whether it is open.
SHAPES = {
    "Sneakers": (0.22, False), "Sandals": (0.10, True), "Clogs": (0.24, False),
    "Boots": (0.46, False), "Loafers": (0.16, False), "Flats": (0.12, False),
    "Slippers": (0.18, False),
}  # fmt: skip
VIEWS = ("side", "top")


def _shade(rgb, factor):
    return tuple(max(0, min(255, int(c * factor))) for c in rgb)


def _draw(category: str, colour: str, view: str) -> bytes:
    rgb = COLOUR_RGB.get(colour, (120, 120, 120))
    height, open_upper = SHAPES.get(category, (0.2, False))
    image = Image.new("RGB", (SIDE, SIDE), (246, 245, 242))
    draw = ImageDraw.Draw(image)
    sole = (60, 60, 56) if sum(rgb) > 360 else (226, 222, 214)
    if view == "side":
        base = int(SIDE * 0.70)
        top = base - int(SIDE * height)
        draw.rounded_rectangle((70, base, 530, base + 34), radius=16, fill=sole)
        if open_upper:
            for x in (170, 300, 420):
                draw.rounded_rectangle((x, top, x + 56, base + 4), radius=10, fill=rgb)
        else:
            draw.polygon(
                [(80, base), (90, top + 20), (250, top), (330, top + 40), (520, base - 60),
                 (530, base)],
                fill=rgb,
            )  # fmt: skip
            draw.line([(250, top + 10), (330, top + 48)], fill=_shade(rgb, 0.7), width=6)
        if category == "Sneakers":
            for i in range(4):
                x = 270 + i * 30
                draw.line([(x, top + 22 + i * 14), (x + 24, top + 40 + i * 14)], fill=sole, width=5)
    else:
        draw.ellipse((200, 60, 400, 540), fill=sole)
        inset = 14 if not open_upper else 40
        draw.ellipse((200 + inset, 60 + inset, 400 - inset, 400), fill=rgb)
        draw.ellipse((250, 360, 350, 500), fill=_shade(rgb, 0.8))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def demo_pictures_ensure(*, report) -> None:
    """Pictures for every colour of every style that has none yet: two views each."""
    done = set(StyleImage.objects.values_list("style_id", flat=True).distinct())
    pairs = (
        SKU.objects.exclude(style_id__in=done)
        .values_list("style_id", "style__category", "color")
        .distinct()
        .order_by("style_id", "color")
    )
    names = dict(Style.objects.exclude(pk__in=done).values_list("pk", "name"))
    stored: dict[tuple, dict[str, str]] = {}
    rows = []
    for style_id, category, colour in pairs:
        for position, view in enumerate(VIEWS):
            # From above only the colour and an open upper show: drawn once for all styles.
            shape = category if view == "side" else SHAPES.get(category, (0, False))[1]
            key = (shape, colour, view)
            if key not in stored:
                stored[key] = _store(_draw(category, colour, view), f"demo-{view}.jpg")
            paths = stored[key]
            rows.append(
                StyleImage(
                    style_id=style_id,
                    color=colour,
                    position=position,
                    alt_text=f"{names[style_id]} in {colour}, "
                    f"{'side view' if view == 'side' else 'from above'}",
                    **paths,
                )
            )
    StyleImage.objects.bulk_create(rows, batch_size=2000)
    report.created["style pictures"] = len(rows)


def _store(data: bytes, filename: str) -> dict[str, str]:
    paths = {"original": default_storage.save(f"catalogue/originals/{filename}", ContentFile(data))}
    for name, content in renditions(data).items():
        paths[name] = default_storage.save(f"catalogue/{content.name}", content)
    return paths

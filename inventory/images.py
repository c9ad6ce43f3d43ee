"""Style pictures: the sizes the pages need, made once with Pillow when a picture is
added, and stored through Django's storage under names derived from their content (so
a changed picture gets a new name and each name can be cached for a year)."""

import hashlib
import io

from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

# name: the longest side in pixels. thumb: the cart, emails, list rows; card: the
# catalogue grid; large: the style page.
SIZES = {"thumb": 160, "card": 480, "large": 960}
MAX_PIXELS = 40_000_000  # a decompression bomb is refused, not resized
BACKGROUND = (255, 255, 255)


class BadImage(ValueError):
    pass


def image_open(data: bytes) -> Image.Image:
    """The picture in `data`, upright and in RGB, or BadImage with the reason."""
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise BadImage(f"The picture is too large (at most {MAX_PIXELS:,} pixels).")
        image = ImageOps.exif_transpose(image)
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise BadImage("The file is not a picture Pillow can read (JPEG, PNG, WebP...).") from error
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, BACKGROUND)
        flat.paste(image, mask=image.getchannel("A"))
        return flat
    return image.convert("RGB")


def content_digest(data: bytes) -> str:
    """What the sizes' file names start with: the same picture, the same names."""
    return hashlib.sha256(data).hexdigest()[:16]


def renditions(data: bytes) -> dict[str, ContentFile]:
    """Each size of SIZES as a square JPEG, the picture fitted on white: shrunk, never
    enlarged (a small original gives smaller files, sharp at the size pages show them).
    Named by the source's content hash and the size."""
    image = image_open(data)
    digest = content_digest(data)
    files = {}
    for name, longest in SIZES.items():
        side = min(longest, max(image.size))
        fitted = image.copy()
        fitted.thumbnail((side, side), Image.Resampling.BICUBIC, reducing_gap=2.0)
        square = Image.new("RGB", (side, side), BACKGROUND)
        square.paste(fitted, ((side - fitted.width) // 2, (side - fitted.height) // 2))
        out = io.BytesIO()
        square.save(out, "JPEG", quality=82, progressive=True)
        files[name] = ContentFile(out.getvalue(), name=f"{digest}-{side}.jpg")
    return files

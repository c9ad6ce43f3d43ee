"""Claim photos: an upload is decoded with Pillow (HEIC through pillow-heif) and written
out again from its pixels alone, so no EXIF (GPS, serial numbers), colour profile,
comment or bytes hidden after the image survive, and what is stored is a plain JPEG
or PNG whatever was sent."""

import contextlib
import io
import warnings
from dataclasses import dataclass
from functools import cache

from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PHOTOS = 5
# The stack's proxy takes bodies up to 8 MB, so that bounds one request's photos too.
MAX_PHOTO_BYTES = 8 * 1024 * 1024
# Refuse before decoding: a small file can claim a huge canvas (a decompression bomb).
MAX_PIXELS = 50_000_000
# Stored photos are scaled to fit this, which is plenty to see a scuffed toe cap.
MAX_SIDE = 2400
ACCEPTED_FORMATS = {"JPEG", "PNG", "HEIF"}


class PhotoRejected(ValueError):
    """The upload is not a photo we accept; the message says why, for the store."""


@dataclass(frozen=True)
class CleanPhoto:
    content: ContentFile
    content_type: str
    width: int
    height: int


@cache
def _heif_registered() -> bool:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    return True


def _decoded(data: bytes) -> Image.Image:
    _heif_registered()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ACCEPTED_FORMATS:
                raise PhotoRejected("Send a JPEG, PNG or HEIC photo.")
            if image.width * image.height > MAX_PIXELS:
                raise PhotoRejected("The photo is too large; send one under 50 megapixels.")
            image.load()
    except PhotoRejected:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
    ) as error:
        raise PhotoRejected("This file is not a readable JPEG, PNG or HEIC photo.") from error
    return image


def photo_clean(source) -> CleanPhoto:
    """The photo (bytes, or an uploaded file, whose size is checked before it is read)
    re-encoded from its pixels, upright (EXIF orientation applied), scaled to fit MAX_SIDE.
    PNG stays PNG (it may be a screenshot with transparency); JPEG and HEIC become JPEG.
    Raises PhotoRejected for anything else."""
    too_big = f"Each photo may be at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB."
    size = len(source) if isinstance(source, bytes) else getattr(source, "size", None)
    if size is not None and size > MAX_PHOTO_BYTES:
        raise PhotoRejected(too_big)
    data = source if isinstance(source, bytes) else source.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoRejected(too_big)
    if not data:
        raise PhotoRejected("The file is empty.")
    image = _decoded(data)
    is_png = image.format == "PNG"
    # Unreadable EXIF: keep the pixels as they are (the EXIF goes anyway).
    with contextlib.suppress(SyntaxError, ValueError, OSError, TypeError, KeyError):
        image = ImageOps.exif_transpose(image)
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    mode = "RGBA" if is_png and image.mode in ("RGBA", "LA", "PA", "P") else "RGB"
    image = image.convert(mode)
    # A new image from the raw pixels carries no info dict: nothing of the original's
    # metadata can reach the encoder.
    pixels = Image.frombytes(mode, image.size, image.tobytes())
    out = io.BytesIO()
    if is_png:
        pixels.save(out, format="PNG", optimize=True)
        content_type, extension = "image/png", "png"
    else:
        pixels.save(out, format="JPEG", quality=85)
        content_type, extension = "image/jpeg", "jpg"
    return CleanPhoto(
        content=ContentFile(out.getvalue(), name=f"photo.{extension}"),
        content_type=content_type,
        width=pixels.width,
        height=pixels.height,
    )

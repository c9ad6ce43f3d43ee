"""Claim photos are re-encoded from their pixels: what is stored carries no metadata and
none of the bytes that came after the image, and anything that is not a JPEG, PNG or
HEIC photo (or is too big) is refused with the reason."""

import io

import pillow_heif
import pytest
from PIL import Image

from orders import photos
from orders.photos import PhotoRejected, photo_clean
from tests.claims.conftest import photo_bytes


def _exif_with_gps_and_orientation(orientation=1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0110] = "Secret Phone 15"  # camera model
    exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (45.0, 30.0, 15.0), 3: "W", 4: (73.0, 10.0, 5.0)}  # GPS
    return exif


def test_a_jpeg_keeps_its_pixels_and_loses_its_exif_and_profile():
    data = photo_bytes(
        "JPEG", exif=_exif_with_gps_and_orientation(), icc_profile=b"\x00" * 128, comment=b"hi"
    )
    assert b"Secret Phone" in data

    clean = photo_clean(data)

    stored = clean.content.read()
    assert b"Secret Phone" not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG"
    assert not image.getexif()
    assert "icc_profile" not in image.info
    assert "comment" not in image.info
    assert (clean.width, clean.height, clean.content_type) == (64, 48, "image/jpeg")
    red, green, blue = image.getpixel((10, 10))
    assert red > 150
    assert green < 80
    assert blue < 80


def test_bytes_hidden_after_the_image_do_not_survive():
    payload = b"<?php system($_GET['c']); ?>" * 10
    clean = photo_clean(photo_bytes("JPEG") + payload)

    assert b"system(" not in clean.content.read()


def test_the_exif_orientation_is_applied_before_it_is_dropped():
    # a 64x48 photo the camera says to turn 90 degrees
    clean = photo_clean(photo_bytes("JPEG", exif=_exif_with_gps_and_orientation(6)))

    assert (clean.width, clean.height) == (48, 64)


def test_a_png_stays_png_with_its_transparency_and_without_its_text_chunks():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "someone@example.com")
    clean = photo_clean(photo_bytes("PNG", color=(0, 0, 0, 0), pnginfo=info))

    stored = clean.content.read()
    image = Image.open(io.BytesIO(stored))
    assert (image.format, image.mode, clean.content_type) == ("PNG", "RGBA", "image/png")
    assert b"someone@example.com" not in stored
    assert image.getpixel((1, 1))[3] == 0


@pytest.mark.parametrize(
    "exif", [_exif_with_gps_and_orientation().tobytes(), b"Exif\x00\x00MM"], ids=["gps", "broken"]
)
def test_a_heic_photo_is_accepted_and_stored_as_jpeg_without_its_exif(exif):
    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 60)).save(out, format="HEIF", exif=exif)

    clean = photo_clean(out.getvalue())

    assert clean.content_type == "image/jpeg"
    stored = clean.content.read()
    assert b"Secret Phone" not in stored
    assert Image.open(io.BytesIO(stored)).format == "JPEG"


def test_a_large_photo_is_scaled_to_fit():
    clean = photo_clean(photo_bytes("JPEG", size=(photos.MAX_SIDE * 2, 100)))

    assert clean.width == photos.MAX_SIDE
    assert clean.height == 50


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty"),
        (b"%PDF-1.4 not a photo", "not a readable"),
        (b"GIF89a" + b"\x00" * 40, "not a readable"),
        (photo_bytes("GIF"), "JPEG, PNG or HEIC"),
        (photo_bytes("BMP"), "JPEG, PNG or HEIC"),
        (photo_bytes("JPEG")[:60], "not a readable"),
    ],
)
def test_what_is_not_a_photo_is_refused_with_the_reason(data, why):
    with pytest.raises(PhotoRejected, match=why):
        photo_clean(data)


def test_an_oversize_upload_is_refused_before_it_is_read(monkeypatch):
    class Upload:
        size = photos.MAX_PHOTO_BYTES + 1

        def read(self, *args):
            raise AssertionError("read an oversize upload")

    with pytest.raises(PhotoRejected, match="at most 8 MB"):
        photo_clean(Upload())


def test_a_decompression_bomb_is_refused(monkeypatch):
    # a tiny file that claims a canvas beyond the limit
    monkeypatch.setattr(photos, "MAX_PIXELS", 1000)

    with pytest.raises(PhotoRejected, match="too large"):
        photo_clean(photo_bytes("PNG", size=(100, 100)))

"""import_style_images: pictures from a CSV feed and a directory, with the other feeds'
rules (every bad row named, nothing written unless all rows are good, --dry-run), never
reading outside the directory nor over the network, and safe to import twice."""

import pytest

from inventory.images import content_digest
from inventory.models import StyleImage
from tests.factories import SKUFactory, StyleFactory
from tests.inventory.test_imports import run_import
from tests.inventory.test_pictures import picture_bytes

pytestmark = pytest.mark.django_db

HEADER = "style,color,position,alt_text,file"


@pytest.fixture
def pictures(tmp_path):
    folder = tmp_path / "pictures"
    (folder / "walker").mkdir(parents=True)
    (folder / "walker" / "side.png").write_bytes(picture_bytes())
    (folder / "walker" / "top.jpg").write_bytes(picture_bytes(size=(600, 600), fmt="JPEG"))
    (folder / "notes.txt").write_text("not a picture")
    (tmp_path / "secret.png").write_bytes(picture_bytes())
    return folder


@pytest.fixture
def style():
    style = StyleFactory(number="WLK100", name="Trail Walker")
    SKUFactory(style=style, color="Black")
    SKUFactory(style=style, color="Navy")
    return style


def run(tmp_path, pictures, text, *args):
    return run_import("import_style_images", tmp_path, text, "--images-dir", str(pictures), *args)


def test_a_feed_puts_each_picture_at_its_colour_and_position(tmp_path, pictures, style):
    text = "\n".join(
        [
            HEADER,
            "wlk100,Black,0,Trail Walker in black; side,walker/side.png",
            f"WLK100,,1,,file://{pictures}/walker/top.jpg",
        ]
    )
    ok, out, err = run(tmp_path, pictures, text)
    assert ok, err
    assert "2 added" in out
    black, every_colour = StyleImage.objects.filter(style=style).order_by("position")
    assert (black.color, black.position, black.alt_text) == (
        "Black",
        0,
        "Trail Walker in black; side",
    )
    assert (every_colour.color, every_colour.position) == ("", 1)
    assert all(getattr(black, size) for size in ("thumb", "card", "large"))


def test_importing_the_same_feed_twice_changes_nothing_and_a_new_file_replaces(
    tmp_path, pictures, style
):
    text = f"{HEADER}\nWLK100,Black,0,Side,walker/side.png\n"
    assert run(tmp_path, pictures, text)[0]
    ok, out, _ = run(tmp_path, pictures, text.replace("Side", "Side view"))
    assert ok
    assert "1 unchanged" in out
    (image,) = StyleImage.objects.filter(style=style)
    assert image.alt_text == "Side view"
    ok, out, _ = run(tmp_path, pictures, text.replace("side.png", "top.jpg"))
    assert "1 replaced" in out
    (image,) = StyleImage.objects.filter(style=style)
    assert content_digest((pictures / "walker" / "top.jpg").read_bytes()) in image.thumb.name


def test_every_bad_row_is_named_and_nothing_is_imported(tmp_path, pictures, style):
    text = "\n".join(
        [
            HEADER,
            "WLK100,Black,0,,walker/side.png",
            "NOPE1,,0,,walker/side.png",
            "WLK100,Purple,0,,walker/side.png",
            "WLK100,,x,,walker/side.png",
            "WLK100,,2,,../secret.png",
            f"WLK100,,3,,{tmp_path}/secret.png",
            "WLK100,,4,,https://example.com/walker.png",
            "WLK100,,5,,notes.txt",
            "WLK100,,6,,walker/missing.png",
            "WLK100,Black,0,,walker/top.jpg",
        ]
    )
    ok, _, err = run(tmp_path, pictures, text)
    assert not ok
    assert "row 3, column style: No style NOPE1." in err
    assert "row 4, column color: WLK100 has no colour 'Purple' (Black, Navy)." in err
    assert "row 5, column position: Enter a whole number." in err
    assert "row 6, column file: The file must be inside the images directory." in err
    assert "row 7, column file: The file must be inside the images directory." in err
    assert "row 8, column file: https: URLs are not fetched" in err
    assert "row 9, column file: The file is not a picture" in err
    assert "row 10, column file: No such file in the images directory." in err
    assert "row 11, column position: A picture of this style, colour and position is" in err
    assert "nothing was imported" in err
    assert not StyleImage.objects.exists()


def test_a_symlink_out_of_the_directory_is_refused(tmp_path, pictures, style):
    (pictures / "escape.png").symlink_to(tmp_path / "secret.png")
    ok, _, err = run(tmp_path, pictures, f"{HEADER}\nWLK100,,0,,escape.png\n")
    assert not ok
    assert "row 2, column file: The file must be inside the images directory." in err


def test_dry_run_checks_and_writes_nothing(tmp_path, pictures, style):
    ok, out, _ = run(tmp_path, pictures, f"{HEADER}\nWLK100,Navy,0,,walker/side.png\n", "--dry-run")
    assert ok
    assert "1 picture(s) would be put" in out
    assert "Nothing was written." in out
    assert not StyleImage.objects.exists()


def test_the_images_directory_must_exist(tmp_path, style):
    ok, _, err = run_import(
        "import_style_images", tmp_path, f"{HEADER}\n", "--images-dir", str(tmp_path / "nope")
    )
    assert not ok
    assert "is not a directory" in err

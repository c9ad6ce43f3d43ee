"""Style pictures: the sizes made on upload, alt text, one query for any number of
styles, served with long cache headers, and shown on the style page and in the cart."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from inventory.exceptions import InventoryInputError
from inventory.images import SIZES
from inventory.selectors import pictures_by_style, pictures_of
from inventory.services import style_image_add
from orders.services import LineRequest
from orders.services.cart import cart_lines_add
from tests.factories import SKUFactory, StyleFactory

pytestmark = pytest.mark.django_db


def picture_bytes(size=(1200, 800), mode="RGB", fmt="PNG"):
    out = io.BytesIO()
    Image.new(mode, size, (200, 40, 40) if mode == "RGB" else (200, 40, 40, 128)).save(out, fmt)
    return out.getvalue()


@pytest.fixture
def style():
    style = StyleFactory(name="Trail Walker")
    SKUFactory(style=style, color="Black")
    SKUFactory(style=style, color="Navy")
    return style


def test_a_picture_is_stored_with_every_size_the_pages_need(style):
    image = style_image_add(style=style, data=picture_bytes(), filename="walker.png", color="Black")
    for name, side in SIZES.items():
        with getattr(image, name).open("rb") as stored:
            made = Image.open(stored)
            assert made.size == (side, side)  # square, fitted on white
            assert made.format == "JPEG"
    assert image.position == 0
    second = style_image_add(
        style=style, data=picture_bytes(mode="RGBA"), filename="b.png", color="Black"
    )
    assert second.position == 1  # last in its colour's order
    assert second.card.name != image.card.name  # names follow the content


def test_a_small_original_is_never_enlarged(style):
    image = style_image_add(style=style, data=picture_bytes((300, 200)), filename="small.png")
    with image.large.open("rb") as stored:
        assert Image.open(stored).size == (300, 300)


@pytest.mark.parametrize(
    ("data", "color", "field"),
    [
        (b"not a picture", "Black", "original"),
        (picture_bytes(), "Purple", "color"),
    ],
)
def test_bad_pictures_are_refused_naming_the_field(style, data, color, field):
    with pytest.raises(InventoryInputError) as error:
        style_image_add(style=style, data=data, filename="x.png", color=color)
    assert field in error.value.message_dict
    assert not style.images.exists()


def test_pictures_of_many_styles_are_read_in_one_query(style, django_assert_num_queries):
    other = StyleFactory(name="Garden Clog")
    style_image_add(style=style, data=picture_bytes(), filename="a.png", color="Navy")
    style_image_add(style=style, data=picture_bytes(), filename="b.png", alt_text="Sole detail")
    style_image_add(style=other, data=picture_bytes(), filename="c.png")
    with django_assert_num_queries(1):
        pictures = pictures_by_style(style_ids=[style.pk, other.pk])
    assert [p.alt for p in pictures_of(pictures[style.pk], "Navy")] == ["Trail Walker in Navy"]
    # a colour without its own pictures shows those for every colour
    assert [p.alt for p in pictures_of(pictures[style.pk], "Black")] == ["Sole detail"]
    assert [p.alt for p in pictures_of(pictures[other.pk])] == ["Garden Clog"]


def test_pictures_are_served_with_a_year_of_caching(client, style):
    image = style_image_add(style=style, data=picture_bytes(), filename="a.png")
    response = client.get(image.card.url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["Content-Type"] == "image/jpeg"


def test_only_the_catalogue_folder_is_served(client, settings):
    (settings.MEDIA_ROOT / "invoices").mkdir(parents=True)
    (settings.MEDIA_ROOT / "invoices" / "INV-1.pdf").write_bytes(b"%PDF")
    assert client.get("/media/invoices/INV-1.pdf").status_code == 404
    assert client.get("/media/catalogue/../invoices/INV-1.pdf").status_code == 404


def test_the_style_page_and_the_cart_show_pictures_with_alt_text(
    buyer_client, buyer, account, style, django_assert_max_num_queries
):
    style_image_add(style=style, data=picture_bytes(), filename="a.png", color="Black")
    with django_assert_max_num_queries(16):
        page = buyer_client.get(reverse("portal:style_detail", args=[style.number]))
    assert 'alt="Trail Walker in Black"' in page.content.decode()
    cart_lines_add(
        user=buyer, account=account, lines=[LineRequest(style.skus.get(color="Black").code, 2)]
    )
    cart = buyer_client.get(reverse("portal:cart")).content.decode()
    assert 'alt="Trail Walker in Black"' in cart


def _style_form(style, **images):
    data = {
        "number": style.number,
        "name": style.name,
        "category": style.category,
        "gender": style.gender,
        "replenishment": style.replenishment,
        "lead_time_days": style.lead_time_days,
        "description": "",
        "skus-TOTAL_FORMS": "0",
        "skus-INITIAL_FORMS": "0",
        "images-TOTAL_FORMS": "1",
        "images-INITIAL_FORMS": "0",
        "images-0-color": "Black",
        "images-0-position": "0",
        "images-0-alt_text": "",
    }
    data.update(images)
    return data


def test_a_picture_uploaded_in_the_admin_gets_its_sizes(admin_client, style):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = reverse("admin:inventory_style_change", args=[style.pk])
    upload = SimpleUploadedFile("walker.png", picture_bytes(), "image/png")
    response = admin_client.post(url, _style_form(style, **{"images-0-original": upload}))
    assert response.status_code == 302, response.context and response.context["errors"]
    image = style.images.get()
    assert all(getattr(image, name) for name in ("thumb", "card", "large"))
    bad = SimpleUploadedFile("walker.png", b"not a picture", "image/png")
    response = admin_client.post(url, _style_form(style, **{"images-0-original": bad}))
    assert response.status_code == 200
    assert style.images.count() == 1

"""Numbers read out of text: "²" and "٣" pass str.isdigit(), and int("²") raises. Every
door that reads an id, an index or a count from what it was sent reads it with
inventory.parsing, and answers 400 (or 404 for a path) instead of a 500."""

import pytest
from django.urls import reverse

from inventory.parsing import natural_number, whole_pairs
from orders.models import CartLine
from tests.conftest import api_client_for
from tests.factories import StaffFactory

UNICODE_DIGITS = ["²", "٣", "１２", "¹⁰"]


@pytest.mark.parametrize("raw", UNICODE_DIGITS)
def test_the_parsing_helpers_read_only_ascii_digits(raw):
    assert raw.isdigit()
    assert natural_number(raw) is None
    assert whole_pairs(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0", 0), ("42", 42), (7, 7), ("-1", None), ("1" * 19, None), (True, None), ("", None)],
)
def test_natural_number_reads_ids_that_fit_the_database(raw, expected):
    assert natural_number(raw) == expected


def test_a_size_grid_field_named_with_a_unicode_digit_is_a_400(client, world):
    # given
    tenant = world.alpha
    client.force_login(tenant.buyer)
    cart_before = list(CartLine.objects.values_list("pk", "quantity"))
    url = reverse("portal:style_detail", args=[tenant.cart_sku.style.number])
    # when
    response = client.post(url, {"qty-²": "6", f"qty-{tenant.cart_sku.pk}": "5"})
    # then
    assert response.status_code == 400
    assert "qty-²: Not a size of this style." in response.content.decode()
    assert list(CartLine.objects.values_list("pk", "quantity")) == cart_before


def test_a_cancel_field_named_with_a_unicode_digit_is_a_400(client, world):
    tenant = world.alpha
    client.force_login(tenant.buyer)
    url = reverse("portal:order_cancel", args=[tenant.order.number])

    response = client.post(url, {"cancel-²": "1"})

    assert response.status_code == 400
    assert "Not a line of this order." in response.content.decode()
    tenant.backordered_line.refresh_from_db()
    assert tenant.backordered_line.cancelled == 0


def test_an_api_cancel_with_a_unicode_digit_line_id_is_a_400(world):
    tenant = world.alpha
    api = api_client_for(tenant.buyer)

    response = api.post(
        f"/api/v1/orders/{tenant.order.number}/cancel/",
        {"lines": [{"id": "²", "quantity": 1}]},
        format="json",
    )

    assert response.status_code == 400
    assert "lines[0].id" in response.json()["errors"]


def test_a_decision_for_a_unicode_digit_line_is_a_404(world):
    api = api_client_for(world.alpha.buyer)

    response = api.post("/api/v1/backorders/²/decision/", {"action": "keep"}, format="json")

    assert response.status_code == 404


@pytest.mark.parametrize("raw", UNICODE_DIGITS)
def test_the_admin_search_with_a_unicode_digit_answers(client, world, raw):
    client.force_login(StaffFactory(is_superuser=True))

    response = client.get(reverse("admin:service_search"), {"q": raw})

    assert response.status_code == 200


def test_every_admin_list_searched_for_a_unicode_digit_answers(client, world):
    from django.contrib import admin

    client.force_login(StaffFactory(is_superuser=True))
    for model, model_admin in admin.site._registry.items():
        if not model_admin.search_fields:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url, {"q": "²"})
        assert response.status_code == 200, url


def test_an_admin_order_action_preset_with_a_unicode_digit_is_ignored(client, world):
    client.force_login(StaffFactory(is_superuser=True))
    order = world.alpha.order
    url = reverse("admin:orders_order_service", args=[order.pk, "resend"])

    response = client.get(url, {"message": "²"})

    assert response.status_code == 200

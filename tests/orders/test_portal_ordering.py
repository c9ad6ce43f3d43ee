import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from inventory.models import StockLevel, Width
from orders.models import CartLine, Order, OrderSource, OrderStatus
from orders.services import LineRequest, order_place
from orders.services.cart import cart_lines_add
from tests.factories import RepFactory, SKUFactory, StockLevelFactory, StyleFactory
from tests.orders.conftest import inbound_for, stocked_sku


@pytest.fixture
def style(warehouse):
    style = StyleFactory(number="WLK100", name="Walker")
    for color in ("Black", "Tan"):
        for width in (Width.MEDIUM, Width.WIDE):
            for size in ("7.0", "7.5", "8.0"):
                sku = SKUFactory(
                    style=style,
                    color=color,
                    width=width,
                    size=Decimal(size),
                    code=f"WLK-{color[:3].upper()}-{size}-{width}",
                    core=color == "Black",
                    quick_ship=color == "Tan",
                )
                StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=20)
    return style


def cart_of(user, account):
    return dict(
        CartLine.objects.filter(cart__user=user, cart__account=account).values_list(
            "sku__code", "quantity"
        )
    )


def flashes(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


# --- Catalogue, grid, lists ---------------------------------------------------------------


def test_catalogue_search(buyer_client, style, django_assert_max_num_queries):
    with django_assert_max_num_queries(18):
        response = buyer_client.get(reverse("portal:catalogue"), {"q": "walker"})
    assert response.status_code == 200
    assert b"WLK100" in response.content
    response = buyer_client.get(reverse("portal:catalogue"), {"q": "nothing-like-it"})
    assert b"No styles match" in response.content


def test_style_grid_shows_ats_and_eta_per_cell(
    buyer_client, style, warehouse, django_assert_max_num_queries
):
    sku = style.skus.get(code="WLK-BLA-7.5-2")
    inbound = inbound_for(sku=sku, warehouse=warehouse)
    # 13: the account's price list, the style's pictures and the buyer's stock alerts
    # each take one query on top of the grid's own.
    with django_assert_max_num_queries(13):
        response = buyer_client.get(reverse("portal:style_detail", args=[style.number]))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'name="qty-{sku.pk}"' in body
    assert inbound.run.eta.strftime("%b") in body
    assert body.count('<span class="ats">20<span class="visually-hidden"> available now') == 12


def test_grid_cells_go_into_the_cart(buyer_client, buyer, account, style):
    a = style.skus.get(code="WLK-BLA-7.0-2")
    b = style.skus.get(code="WLK-BLA-8.0-3")
    url = reverse("portal:style_detail", args=[style.number])
    response = buyer_client.post(url, {f"qty-{a.pk}": "6", f"qty-{b.pk}": "2"})
    assert response.status_code == 302
    assert cart_of(buyer, account) == {a.code: 6, b.code: 2}
    response = buyer_client.post(
        url, {f"qty-{a.pk}": "", f"qty-{b.pk}": "4"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b"Cart updated" in response.content
    assert cart_of(buyer, account) == {b.code: 4}


def test_bad_grid_cell_is_named_and_changes_nothing(buyer_client, buyer, account, style):
    a = style.skus.get(code="WLK-BLA-7.0-2")
    b = style.skus.get(code="WLK-BLA-8.0-3")
    url = reverse("portal:style_detail", args=[style.number])
    buyer_client.post(url, {f"qty-{a.pk}": "6"})
    response = buyer_client.post(url, {f"qty-{a.pk}": "1", f"qty-{b.pk}": "-3"})
    assert response.status_code == 400
    assert b.code.encode() in response.content
    assert cart_of(buyer, account) == {a.code: 6}


def test_grid_ignores_cells_of_other_styles(buyer_client, buyer, account, style, warehouse):
    foreign = stocked_sku(warehouse=warehouse)
    url = reverse("portal:style_detail", args=[style.number])
    buyer_client.post(url, {f"qty-{foreign.pk}": "6"})
    assert cart_of(buyer, account) == {}


@pytest.mark.parametrize("kind", ["core", "quick-ship"])
def test_quick_lists(buyer_client, style, kind, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = buyer_client.get(reverse("portal:quick_list", args=[kind]))
    assert response.status_code == 200
    color = "Black" if kind == "core" else "Tan"
    assert color.encode() in response.content
    assert b"+1 run" in response.content


def test_one_click_and_size_run(buyer_client, buyer, account, style):
    url = reverse("portal:cart_add")
    run = list(style.skus.filter(color="Black", width=Width.MEDIUM).values_list("code", flat=True))
    buyer_client.post(url, {"sku": run[0], "quantity": "1"})
    response = buyer_client.post(url, {"sku": run, "quantity": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"Added 3 items" in response.content
    assert cart_of(buyer, account) == {run[0]: 2, run[1]: 1, run[2]: 1}


def test_cart_add_bad_line_reports_it(buyer_client, buyer, account, style):
    response = buyer_client.post(
        reverse("portal:cart_add"),
        {"sku": ["WLK-BLA-7.0-2", "NOPE"], "quantity": ["2", "x"]},
    )
    assert response.status_code == 302
    text = " ".join(flashes(response))
    assert "Line 2 (NOPE)" in text
    assert cart_of(buyer, account) == {}


# --- Paste, upload, reorder --------------------------------------------------------------


def test_paste_reports_bad_lines_and_keeps_good_ones(buyer_client, buyer, account, style):
    text = "WLK-BLA-7.0-2 6\nNOPE 3\nWLK-TAN-8.0-3;0\nWLK-BLA-7.0-2 2\n"
    response = buyer_client.post(reverse("portal:paste_upload"), {"text": text})
    assert response.status_code == 200
    body = response.content.decode()
    assert "2 good lines, 2 problems" in body
    assert "Unknown SKU or UPC" in body
    assert "at least 1" in body
    assert cart_of(buyer, account) == {}  # nothing is added before review


def test_csv_upload_with_bom(buyer_client, style, django_assert_max_num_queries):
    upload = SimpleUploadedFile(
        "order.csv", "\ufeffsku;qty\nWLK-BLA-7.0-2;6\nWLK-TAN-7.5-3;4\n".encode(), "text/csv"
    )
    with django_assert_max_num_queries(12):
        response = buyer_client.post(reverse("portal:paste_upload"), {"file": upload})
    assert response.status_code == 200
    assert b"2 good lines, 0 problems" in response.content
    # the review form marks its lines as uploaded when they go to the cart
    assert b'name="origin" value="upload"' in response.content


def test_reorder_shows_current_availability(
    buyer_client, buyer, fill_in_account, style, other_buyer, client, django_assert_max_num_queries
):
    sku = style.skus.get(code="WLK-BLA-7.0-2")
    order = order_place(account=fill_in_account, user=buyer, lines=[LineRequest(sku.code, 8)]).order
    url = reverse("portal:reorder", args=[order.number])
    with django_assert_max_num_queries(12):
        response = buyer_client.get(url)
    assert response.status_code == 200
    assert b'<span class="badge ok">12</span>' in response.content
    client.force_login(other_buyer)
    assert client.get(url).status_code == 404


# --- Cart, review, submit -----------------------------------------------------------------


def test_cart_page_and_line_update(
    buyer_client, buyer, account, style, django_assert_max_num_queries
):
    cart_lines_add(user=buyer, account=account, lines=[LineRequest("WLK-BLA-7.0-2", 6)])
    with django_assert_max_num_queries(12):
        response = buyer_client.get(reverse("portal:cart"))
    assert response.status_code == 200
    assert b"WLK-BLA-7.0-2" in response.content
    sku = style.skus.get(code="WLK-BLA-7.0-2")
    buyer_client.post(reverse("portal:cart_line_update", args=[sku.pk]), {"quantity": "9"})
    assert cart_of(buyer, account) == {sku.code: 9}
    response = buyer_client.post(
        reverse("portal:cart_line_update", args=[sku.pk]), {"quantity": "lots"}
    )
    assert any("whole number" in m for m in flashes(response))
    assert cart_of(buyer, account) == {sku.code: 9}
    buyer_client.post(reverse("portal:cart_empty"))
    assert cart_of(buyer, account) == {}


def test_review_shows_the_split_and_the_rules(
    buyer_client, buyer, fill_in_account, style, warehouse, terms, django_assert_max_num_queries
):
    short = style.skus.get(code="WLK-BLA-7.0-2")
    inbound = inbound_for(sku=short, warehouse=warehouse)
    cart_lines_add(
        user=buyer, account=fill_in_account, lines=[LineRequest(short.code, 26)]
    )  # 20 now, 6 from the run
    # 19: with the account's price list, the lines' pictures and the credit check (the
    # account's position with its invoices past due, in one)
    with django_assert_max_num_queries(19):
        response = buyer_client.get(reverse("portal:review"))
    assert response.status_code == 200
    body = response.content.decode()
    assert inbound.run.reference in body
    assert "Fill-in order: minimum 6 pairs — you will get 26." in body
    assert "Minimum met" in body
    assert "Free freight" in body  # 26 x $60 = $1560
    assert "Net 30" in body
    response = buyer_client.get(
        reverse("portal:review"), {"backorders": "none"}, HTTP_HX_REQUEST="true"
    )
    assert "Backorders were not requested" in response.content.decode()


def test_review_shows_pairs_that_cannot_be_had_as_cancelled(
    buyer_client, buyer, fill_in_account, style
):
    # given 4 pairs of a SKU with 20 in stock and 5 of one with none, nothing inbound
    gone = style.skus.get(code="WLK-TAN-8.0-2")
    StockLevel.objects.filter(sku=gone).update(on_hand=0)
    cart_lines_add(
        user=buyer,
        account=fill_in_account,
        lines=[LineRequest("WLK-BLA-7.0-2", 4), LineRequest(gone.code, 5)],
    )
    # when reviewed as "ship what is available, cancel the rest"
    response = buyer_client.get(
        reverse("portal:review"), {"backorders": "none"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    # then the empty line is cancelled, without a total, and not counted toward the minimum
    assert "Cancelled" in body
    assert "$300.00" not in body  # 5 x $60 is never shown as a line total
    assert "you will get 4 of the 9 ordered" in body
    assert "A fill-in order needs at least 6 pairs; this one has 4 (5 more cannot be had)." in body
    assert "Minimum met" not in body


def test_review_shows_freight_meter_and_minimum_error(buyer_client, buyer, fill_in_account, style):
    cart_lines_add(user=buyer, account=fill_in_account, lines=[LineRequest("WLK-BLA-7.0-2", 4)])
    body = buyer_client.get(reverse("portal:review")).content.decode()
    assert "$260.00 more for free freight" in body  # $500 - 4 x $60
    assert "A fill-in order needs at least 6 pairs" in body
    assert "disabled" in body


def test_review_measures_an_opening_order_by_its_value(buyer_client, buyer, account, style):
    # given a first order (the account has none yet) of 4 pairs at $60
    cart_lines_add(user=buyer, account=account, lines=[LineRequest("WLK-BLA-7.0-2", 4)])
    # when reviewed
    body = buyer_client.get(reverse("portal:review")).content.decode()
    # then the minimum is stated in money against the order's value
    assert "Opening order: minimum $1,000.00 — the pairs you will get come to $240.00." in body
    assert "An opening order needs at least $1,000.00" in body


def test_submit_places_the_order_and_redirects(buyer_client, buyer, fill_in_account, style):
    cart_lines_add(user=buyer, account=fill_in_account, lines=[LineRequest("WLK-BLA-7.0-2", 12)])
    form = {
        "po_number": "PO-77",
        "ship_to": fill_in_account.ship_tos.get().pk,
        "backorders": "allow",
        "idempotency_key": "form-key-1",
        "requested_ship_date": "",
        "cancel_date": "",
    }
    response = buyer_client.post(reverse("portal:submit"), form)
    order = Order.objects.get(idempotency_key="form-key-1")
    assert response.status_code == 302
    assert response.url == reverse("portal:order_detail", args=[order.number])
    assert any("placed" in m for m in flashes(response))
    assert order.placed_by == buyer
    assert order.source == OrderSource.PORTAL
    assert order.po_number == "PO-77"
    assert cart_of(buyer, fill_in_account) == {}
    # a double click returns the same order
    again = buyer_client.post(reverse("portal:submit"), form)
    assert again.url == response.url
    assert Order.objects.filter(idempotency_key="form-key-1").count() == 1


def test_submit_bad_dates_are_form_errors(buyer_client, buyer, fill_in_account, style):
    cart_lines_add(user=buyer, account=fill_in_account, lines=[LineRequest("WLK-BLA-7.0-2", 12)])
    past = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    response = buyer_client.post(
        reverse("portal:submit"),
        {"backorders": "allow", "idempotency_key": "k2", "cancel_date": past},
    )
    assert response.status_code == 400
    assert b"The date is in the past." in response.content
    response = buyer_client.post(
        reverse("portal:submit"),
        {"backorders": "allow", "idempotency_key": "k3", "requested_ship_date": "soon"},
    )
    assert response.status_code == 400
    assert not Order.objects.exclude(number__startswith="SO-PREV").exists()
    assert cart_of(buyer, fill_in_account) == {"WLK-BLA-7.0-2": 12}


def test_rep_orders_through_the_same_pages(client, fill_in_account, style):
    rep = RepFactory()
    fill_in_account.rep = rep
    fill_in_account.save()
    client.force_login(rep)
    client.post(reverse("portal:cart_add"), {"sku": "WLK-BLA-7.0-2", "quantity": "6"})
    client.post(reverse("portal:submit"), {"backorders": "allow", "idempotency_key": "rep-1"})
    order = Order.objects.get(idempotency_key="rep-1")
    assert order.source == OrderSource.REP
    assert order.placed_by == rep
    response = client.get(reverse("portal:order_detail", args=[order.number]))
    assert str(rep).encode() in response.content


# --- Viewers: browse, never change --------------------------------------------------------


def test_viewer_sees_no_cart_controls(viewer_client, style):
    response = viewer_client.get(reverse("portal:style_detail", args=[style.number]))
    assert response.status_code == 200
    assert b'name="qty-' not in response.content
    response = viewer_client.get(reverse("portal:quick_list", args=["core"]))
    assert b"+1 run" not in response.content


def test_viewer_posts_are_403(viewer_client, account, viewer, style, buyer):
    sku = style.skus.first()
    posts = [
        (reverse("portal:cart_add"), {"sku": sku.code, "quantity": "6"}),
        (reverse("portal:style_detail", args=[style.number]), {f"qty-{sku.pk}": "6"}),
        (reverse("portal:cart_line_update", args=[sku.pk]), {"quantity": "6"}),
        (reverse("portal:cart_empty"), {}),
        (reverse("portal:paste_upload"), {"text": f"{sku.code} 6"}),
        (reverse("portal:submit"), {"backorders": "allow", "idempotency_key": "v"}),
    ]
    for url, data in posts:
        assert viewer_client.post(url, data).status_code == 403, url
    assert not CartLine.objects.exists()
    assert not Order.objects.exists()


# --- Order list, detail, cancel -----------------------------------------------------------


@pytest.fixture
def placed(buyer, fill_in_account, style, warehouse):
    sku = style.skus.get(code="WLK-BLA-7.0-2")
    inbound_for(sku=sku, warehouse=warehouse)
    return order_place(
        account=fill_in_account, user=buyer, lines=[LineRequest(sku.code, 26)], po_number="PO-9"
    ).order


def test_order_list_filters(buyer_client, placed, django_assert_max_num_queries):
    url = reverse("portal:order_list")
    with django_assert_max_num_queries(10):
        response = buyer_client.get(url)
    assert placed.number.encode() in response.content
    assert placed.number.encode() in buyer_client.get(url, {"po_number": "PO-9"}).content
    assert placed.number.encode() not in buyer_client.get(url, {"status": "shipped"}).content
    response = buyer_client.get(url, {"placed_after": "not-a-date"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"placed_after" in response.content


def test_order_detail_shows_split_dates_and_run(
    buyer_client, placed, buyer, django_assert_max_num_queries
):
    with django_assert_max_num_queries(14):
        response = buyer_client.get(reverse("portal:order_detail", args=[placed.number]))
    assert response.status_code == 200
    body = response.content.decode()
    line = placed.lines.get()
    run = line.pegs.get().inbound_line.run
    assert f"run {run.reference}" in body
    assert str(buyer) in body
    assert f'name="cancel-{line.pk}"' in body


def test_other_accounts_cannot_see_or_cancel(client, placed, other_buyer):
    client.force_login(other_buyer)
    assert client.get(reverse("portal:order_detail", args=[placed.number])).status_code == 404
    response = client.post(reverse("portal:order_cancel", args=[placed.number]), {"all": "1"})
    assert response.status_code == 404
    assert placed.lines.get().cancelled == 0


def test_viewer_cancel_is_403(viewer_client, placed):
    response = viewer_client.post(
        reverse("portal:order_cancel", args=[placed.number]), {"all": "1"}
    )
    assert response.status_code == 403
    assert placed.lines.get().cancelled == 0


def test_cancel_some_then_all(buyer_client, placed):
    line = placed.lines.get()
    url = reverse("portal:order_cancel", args=[placed.number])
    buyer_client.post(url, {f"cancel-{line.pk}": "4"})
    line.refresh_from_db()
    assert (line.backordered, line.cancelled) == (2, 4)
    response = buyer_client.post(url, {f"cancel-{line.pk}": "99"})
    assert any("still open" in m for m in flashes(response))
    buyer_client.post(url, {"all": "1"})
    placed.refresh_from_db()
    assert placed.status == OrderStatus.CANCELLED
    assert StockLevel.objects.get(sku=line.sku).allocated == 0

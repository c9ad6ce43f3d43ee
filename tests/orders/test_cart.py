import pytest

from orders.exceptions import OrderInputError, OrderNotAllowed
from orders.models import CartLine, Order, OrderSource
from orders.services import LineRequest
from orders.services.cart import (
    cart_clear,
    cart_line_set,
    cart_lines_add,
    cart_lines_set,
    cart_paste_parse,
    cart_submit,
    cart_upload_parse,
)
from tests.factories import RepFactory
from tests.orders.conftest import stocked_sku


@pytest.fixture
def skus(warehouse):
    return [stocked_sku(warehouse=warehouse, code=f"WLK-{n}") for n in range(3)]


def cart_of(user, account):
    return dict(
        CartLine.objects.filter(cart__user=user, cart__account=account).values_list(
            "sku__code", "quantity"
        )
    )


# --- Paste and CSV ---------------------------------------------------------------------------


def test_paste_accepts_sku_or_upc_with_any_separator(skus):
    a, b, c = skus
    text = f"{a.code} 6\n{b.upc}\t4\n\n{c.code.lower()};2\n{a.code}, 3\n"
    result = cart_paste_parse(text=text)
    assert result.errors == []
    assert [(line.line_number, line.sku, line.quantity) for line in result.lines] == [
        (1, a, 6),
        (2, b, 4),
        (4, c, 2),
        (5, a, 3),
    ]


def test_csv_with_bom_header_and_semicolons(skus):
    a, b, _ = skus
    data = f'\ufeffSKU;Qty\r\n{a.code};12\r\n"{b.code}";6\r\n'.encode()
    result = cart_upload_parse(data=data)
    assert result.errors == []
    assert [(line.sku, line.quantity) for line in result.lines] == [(a, 12), (b, 6)]


def test_latin1_csv_and_binary_file(skus):
    a = skus[0]
    result = cart_upload_parse(data=f"{a.code},6\nCafé,1\n".encode("latin-1"))
    assert [line.sku for line in result.lines] == [a]
    assert result.errors[0].line_number == 2
    binary = cart_upload_parse(data=b"PK\x03\x04\x00\x00junk")
    assert binary.lines == []
    assert "not a text" in binary.errors[0].reason


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("NOPE-1 6", "Unknown SKU"),
        ("{code} 0", "at least 1"),
        ("{code} -4", "at least 1"),
        ("{code} 99999999999999999999", "at most"),
        ("{code} 6000", "at most"),
        ("{code} six", "whole number"),
        ("{code} 2.5", "whole number"),
        ("{code}", "Expected a SKU"),
        ("{code} 6 extra", "Expected a SKU"),
    ],
)
def test_every_bad_line_is_reported_by_number(skus, row, reason):
    a, b, _ = skus
    text = f"{b.code} 6\n{row.format(code=a.code)}\n{b.code} 1"
    result = cart_paste_parse(text=text)
    assert [(e.line_number, reason in e.reason) for e in result.errors] == [(2, True)]
    assert [line.line_number for line in result.lines] == [1, 3]


def test_inactive_sku_is_reported(warehouse):
    gone = stocked_sku(warehouse=warehouse, active=False)
    result = cart_paste_parse(text=f"{gone.code} 6")
    assert "no longer sold" in result.errors[0].reason


def test_too_many_lines_is_one_error(skus):
    text = "\n".join(f"{skus[0].code} 1" for _ in range(501))
    result = cart_paste_parse(text=text)
    assert result.lines == []
    assert "At most 500" in result.errors[0].reason


# --- Adding to the cart ------------------------------------------------------------------------


def test_duplicate_skus_are_merged_in_the_cart(account, buyer, skus):
    a, b, _ = skus
    cart_lines_add(user=buyer, account=account, lines=[LineRequest(a.code, 6)])
    parsed = cart_paste_parse(text=f"{a.code} 2\n{b.code} 4\n{a.code.lower()} 3")
    cart_lines_add(
        user=buyer,
        account=account,
        lines=[LineRequest(line.sku.code, line.quantity) for line in parsed.lines],
    )
    assert cart_of(buyer, account) == {a.code: 11, b.code: 4}


def test_bad_line_adds_nothing(account, buyer, skus):
    a, b, _ = skus
    with pytest.raises(OrderInputError) as error:
        cart_lines_add(
            user=buyer,
            account=account,
            lines=[LineRequest(a.code, 6), LineRequest("NOPE", 1), LineRequest(b.code, "-2")],
        )
    assert set(error.value.message_dict) == {"lines[1].sku", "lines[2].quantity"}
    assert cart_of(buyer, account) == {}


def test_cart_is_per_user_and_account(account, other_account, buyer, other_buyer, skus):
    a = skus[0]
    cart_lines_add(user=buyer, account=account, lines=[LineRequest(a.code, 6)])
    assert cart_of(other_buyer, other_account) == {}
    with pytest.raises(OrderNotAllowed):
        cart_lines_add(user=other_buyer, account=account, lines=[LineRequest(a.code, 6)])


def test_viewer_has_no_cart(account, viewer, skus):
    with pytest.raises(OrderNotAllowed):
        cart_lines_add(user=viewer, account=account, lines=[LineRequest(skus[0].code, 6)])
    assert not CartLine.objects.exists()


def test_grid_cells_set_and_remove(account, buyer, skus):
    a, b, c = skus
    cart_lines_set(user=buyer, account=account, quantities={a.pk: "6", b.pk: "2"})
    cart_lines_set(user=buyer, account=account, quantities={a.pk: "", b.pk: "3", c.pk: "1"})
    assert cart_of(buyer, account) == {b.code: 3, c.code: 1}
    with pytest.raises(OrderInputError) as error:
        cart_lines_set(user=buyer, account=account, quantities={b.pk: "-1", c.pk: "x"})
    assert set(error.value.message_dict) == {b.code, c.code}
    assert cart_of(buyer, account) == {b.code: 3, c.code: 1}


def test_line_set_and_clear(account, buyer, skus):
    a = skus[0]
    cart_line_set(user=buyer, account=account, sku=a, quantity="8")
    assert cart_of(buyer, account) == {a.code: 8}
    with pytest.raises(OrderInputError):
        cart_line_set(user=buyer, account=account, sku=a, quantity="1e9")
    cart_line_set(user=buyer, account=account, sku=a, quantity="0")
    assert cart_of(buyer, account) == {}
    cart_line_set(user=buyer, account=account, sku=a, quantity="2")
    assert cart_clear(user=buyer, account=account) == 1


# --- Submitting ----------------------------------------------------------------------------


def test_submit_places_the_cart_and_empties_it(fill_in_account, buyer, skus):
    a, b, _ = skus
    cart_lines_add(
        user=buyer, account=fill_in_account, lines=[LineRequest(a.code, 6), LineRequest(b.code, 6)]
    )
    result = cart_submit(user=buyer, account=fill_in_account, idempotency_key="cart-1")
    assert result.created
    assert result.order.source == OrderSource.PORTAL
    assert sorted(result.order.lines.values_list("quantity", flat=True)) == [6, 6]
    assert cart_of(buyer, fill_in_account) == {}
    # a double submit returns the same order
    again = cart_submit(user=buyer, account=fill_in_account, idempotency_key="cart-1")
    assert again.order.pk == result.order.pk


def test_submit_of_an_empty_cart_is_an_error(fill_in_account, buyer):
    with pytest.raises(OrderInputError) as error:
        cart_submit(user=buyer, account=fill_in_account)
    assert "lines" in error.value.message_dict
    assert not Order.objects.exclude(number__startswith="SO-PREV").exists()


def test_rep_submit_is_recorded_as_rep(fill_in_account, skus):
    rep = RepFactory()
    fill_in_account.rep = rep
    fill_in_account.save()
    cart_lines_add(user=rep, account=fill_in_account, lines=[LineRequest(skus[0].code, 6)])
    order = cart_submit(user=rep, account=fill_in_account).order
    assert order.source == OrderSource.REP
    assert order.placed_by == rep


def test_pasted_or_uploaded_lines_make_an_upload_order(fill_in_account, buyer, skus):
    # given lines that came from a pasted list, next to one picked on a grid
    a, b, _ = skus
    parsed = cart_paste_parse(text=f"{a.code} 6\n")
    cart_lines_add(user=buyer, account=fill_in_account, lines=parsed.lines, from_upload=True)
    cart_lines_add(user=buyer, account=fill_in_account, lines=[LineRequest(b.code, 6)])
    # when the cart is placed
    order = cart_submit(user=buyer, account=fill_in_account).order
    # then the order says it came from an upload, and the emptied cart forgets it
    assert order.source == OrderSource.UPLOAD
    cart_lines_add(user=buyer, account=fill_in_account, lines=[LineRequest(a.code, 6)])
    assert cart_submit(user=buyer, account=fill_in_account).order.source == OrderSource.PORTAL

"""Bad input through the order API, the portal's forms and the CSV upload: a 4xx or a
form error naming the field or row, never a 500, and nothing changed. Markup and line
breaks are shown as text wherever they are shown (portal, admin, email, PDF)."""

import codecs
import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.models import StockLevel
from notifications.models import Message
from orders.models import CartLine, Order, OrderLine
from orders.services import LineRequest, order_place
from orders.services.cart import MAX_UPLOAD_BYTES, cart_paste_parse
from portal.invariants import invariant_violations
from tests.conftest import api_client_for
from tests.factories import (
    AccountFactory,
    ShipToFactory,
    SKUFactory,
    StaffFactory,
    StockLevelFactory,
)
from tests.orders.conftest import make_fill_in

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"


@pytest.fixture
def shop(terms, account, buyer, warehouse):
    terms.opening_order_minimum = Decimal("0.00")
    terms.fill_in_minimum_pairs = 1
    terms.save()
    make_fill_in(account)
    skus = [SKUFactory(price=Decimal("40.00")) for _ in range(3)]
    for sku in skus:
        StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=100)
    retired = SKUFactory(active=False)
    StockLevelFactory(sku=retired, warehouse=warehouse, on_hand=100)
    api = api_client_for(buyer)
    api.raise_request_exception = False
    return {"skus": skus, "retired": retired, "api": api}


def _state():
    return (
        Order.objects.count(),
        OrderLine.objects.count(),
        StockLevel.objects.aggregate(a=Sum("allocated"))["a"],
        CartLine.objects.count(),
        Message.objects.count(),
    )


def _today():
    return timezone.localdate()


def _body(shop, **overrides):
    body = {"po_number": "PO-1", "lines": [{"sku": shop["skus"][0].code, "quantity": 6}]}
    body.update(overrides)
    return body


BAD_ORDERS = {
    "zero": ({"lines": [{"sku": 0, "quantity": 0}]}, "lines[0].quantity"),
    "negative": ({"lines": [{"sku": 0, "quantity": -6}]}, "lines[0].quantity"),
    "fractional": ({"lines": [{"sku": 0, "quantity": 1.5}]}, "lines[0].quantity"),
    "fraction text": ({"lines": [{"sku": 0, "quantity": "2.5"}]}, "lines[0].quantity"),
    "huge": ({"lines": [{"sku": 0, "quantity": 10**12}]}, "lines[0].quantity"),
    "beyond bigint": ({"lines": [{"sku": 0, "quantity": 10**30}]}, "lines[0].quantity"),
    "non-numeric": ({"lines": [{"sku": 0, "quantity": "six"}]}, "lines[0].quantity"),
    "null quantity": ({"lines": [{"sku": 0, "quantity": None}]}, "lines[0].quantity"),
    "unknown sku": ({"lines": [{"sku": "NOPE-1", "quantity": 6}]}, "lines[0].sku"),
    "retired sku": ({"lines": [{"sku": "retired", "quantity": 6}]}, "lines[0].sku"),
    "duplicate line": (
        {"lines": [{"sku": 0, "quantity": 6}, {"sku": 0, "quantity": 2}]},
        "lines[1].sku",
    ),
    "duplicate in other case": (
        {"lines": [{"sku": 0, "quantity": 6}, {"sku": "lower:0", "quantity": 2}]},
        "lines[1].sku",
    ),
    "no lines": ({"lines": []}, "lines"),
    "too many lines": ({"lines": [{"sku": 0, "quantity": 1}] * 501}, "lines"),
    "markup and CR/LF in PO": ({"po_number": "<b>PO</b>\r\nBcc: x@evil.example"}, "po_number"),
    "NUL in PO": ({"po_number": "PO\x001"}, "po_number"),
    "NUL in sku": ({"lines": [{"sku": "A\x00", "quantity": 1}]}, "lines[0].sku"),
    "overlong PO": ({"po_number": "P" * 300}, "po_number"),
    "past ship date": ({"requested_ship_date": "2001-01-01"}, "requested_ship_date"),
    "far-future cancel date": ({"cancel_date": "2999-01-01"}, "cancel_date"),
    "impossible date": ({"cancel_date": "2030-02-30"}, "cancel_date"),
    "another account's ship-to": ({"ship_to": "theirs"}, "ship_to"),
    "unknown backorder policy": ({"backorders": "sometimes"}, "backorders"),
}


def _resolve(shop, body, other_ship_to):
    """Fill the placeholders: 0 -> a real SKU code, "retired", "lower:0", "theirs"."""
    for line in body.get("lines", []):
        if line["sku"] == 0:
            line["sku"] = shop["skus"][0].code
        elif line["sku"] == "retired":
            line["sku"] = shop["retired"].code
        elif line["sku"] == "lower:0":
            line["sku"] = shop["skus"][0].code.lower()
    if body.get("ship_to") == "theirs":
        body["ship_to"] = other_ship_to.pk
    return body


@pytest.mark.parametrize("case", BAD_ORDERS)
def test_a_bad_order_is_refused_naming_the_field_and_changes_nothing(shop, case):
    # given
    other_ship_to = ShipToFactory(account=AccountFactory())
    overrides, field = BAD_ORDERS[case]
    body = _resolve(shop, _body(shop, **overrides), other_ship_to)
    before = _state()

    # when
    response = shop["api"].post(ORDERS, body, format="json")

    # then
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert _state() == before


def test_client_sent_prices_statuses_and_totals_are_refused_by_name(shop):
    sku = shop["skus"][1]
    before = Order.objects.count()
    body = {
        "po_number": "PO-CHEAP",
        "status": "shipped",
        "total": "0.01",
        "freight": "0.00",
        "lines": [
            {"sku": f"  {sku.code.lower()} ", "quantity": 6, "unit_price": "0.01", "shipped": 6}
        ],
    }

    response = shop["api"].post(ORDERS, body, format="json")

    assert response.status_code == 400, response.content
    assert set(response.json()["errors"]) == {
        "status",
        "total",
        "freight",
        "lines[0].unit_price",
        "lines[0].shipped",
    }
    assert Order.objects.count() == before


def test_sku_spacing_and_case_do_not_matter(shop, account, buyer):
    sku = shop["skus"][2]
    messy = " ".join(sku.code.lower())

    result = order_place(account=account, user=buyer, lines=[LineRequest(messy, 2)])

    assert result.order.lines.get().sku == sku


# --- Fuzzing the order API and the paste parser ------------------------------------------

quantities = st.one_of(
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.none(),
    st.booleans(),
)
dates = st.one_of(
    st.none(),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(3000, 1, 1)).map(str),
    st.text(max_size=12),
)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    picks=st.lists(
        st.tuples(st.one_of(st.integers(0, 3), st.text(max_size=20)), quantities),
        min_size=0,
        max_size=4,
    ),
    cancel_date=dates,
    requested=dates,
)
def test_fuzzed_orders_are_placed_or_refused_never_a_server_error(
    shop, picks, cancel_date, requested
):
    codes = [sku.code for sku in shop["skus"]] + [shop["retired"].code]
    lines = [
        {"sku": codes[pick] if isinstance(pick, int) else pick, "quantity": quantity}
        for pick, quantity in picks
    ]
    body = {"po_number": "PO-F", "lines": lines}
    if cancel_date is not None:
        body["cancel_date"] = cancel_date
    if requested is not None:
        body["requested_ship_date"] = requested
    before = _state()

    response = shop["api"].post(ORDERS, body, format="json")

    assert response.status_code in (201, 400), (body, response.status_code, response.content)
    if response.status_code == 400:
        assert response.json()["errors"], response.content
        assert _state() == before
    assert set(invariant_violations().values()) == {0}


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(
    text=st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=300)
    | st.lists(
        st.tuples(
            st.sampled_from(["WLK-1", "wlk-1", " W L K-1", "=SUM(A1)", "", "123456789012"]),
            st.sampled_from([",", ";", "\t", " ", ",,"]),
            st.one_of(st.integers(-5, 6000).map(str), st.sampled_from(["1.5", "x", "", "1,000"])),
        ),
        max_size=8,
    ).map(lambda rows: "\n".join(f"{a}{d}{q}" for a, d, q in rows))
)
def test_fuzzed_paste_is_split_into_good_lines_and_errors(text):
    result = cart_paste_parse(text=text)

    rows = [line for line in text.splitlines() if line.strip()]
    assert len(result.lines) + len(result.errors) <= len(rows)
    for line in result.lines:
        assert 1 <= line.quantity <= 5000
        assert line.sku.active
    for error in result.errors:
        assert error.reason


# --- The portal's forms ------------------------------------------------------------------


@pytest.fixture
def portal(shop, buyer):
    client = Client(raise_request_exception=False)
    client.force_login(buyer)
    client.post(reverse("portal:cart_add"), {"sku": shop["skus"][0].code, "quantity": "6"})
    return client


SUBMIT_CASES = {
    "past ship date": ({"requested_ship_date": "2001-01-01"}, "requested_ship_date"),
    "far cancel date": ({"cancel_date": "2999-01-01"}, "cancel_date"),
    "not a date": ({"cancel_date": "soon"}, "cancel_date"),
    "line break in PO": ({"po_number": "PO\r\nBcc: x@evil.example"}, "po_number"),
    "overlong PO": ({"po_number": "P" * 300}, "po_number"),
    "another account's ship-to": ({"ship_to": "theirs"}, "ship_to"),
    "unknown backorder policy": ({"backorders": "sometimes"}, "backorders"),
}


@pytest.mark.parametrize("case", SUBMIT_CASES)
def test_a_bad_submit_is_a_form_error_and_places_nothing(portal, shop, case):
    other = ShipToFactory(account=AccountFactory())
    overrides, field = SUBMIT_CASES[case]
    data = {"po_number": "PO-9", "backorders": "allow", "idempotency_key": "k-1"}
    data.update(overrides)
    if data.get("ship_to") == "theirs":
        data["ship_to"] = str(other.pk)
    before = _state()

    response = portal.post(reverse("portal:submit"), data)

    assert response.status_code == 400
    assert field in response.context["form"].errors or any(
        field in str(e) for e in response.context["form"].non_field_errors()
    ), response.context["form"].errors
    assert _state() == before


@pytest.mark.parametrize(
    ("sku", "quantity", "message"),
    [
        ("NOPE-1", "6", "Unknown SKU"),
        ("retired", "6", "no longer sold"),
        (0, "0.5", "whole number"),
        (0, "-3", "at least 1"),
        (0, "1e3", "whole number"),
        (0, "99999999999999999999", "at most"),
        (0, "six", "whole number"),
    ],
)
def test_a_bad_cart_line_is_refused_naming_the_row(portal, shop, sku, quantity, message):
    code = {0: shop["skus"][0].code, "retired": shop["retired"].code}.get(sku, sku)
    before = _state()

    response = portal.post(
        reverse("portal:cart_add"), {"sku": code, "quantity": quantity}, follow=True
    )

    assert response.status_code == 200
    text = response.content.decode()
    assert "Nothing was added to the cart" in text
    assert f"Line 1 ({code})" in text
    assert message in text
    assert _state() == before


# --- CSV upload --------------------------------------------------------------------------


def _upload(portal, data: bytes, name="lines.csv"):
    return portal.post(reverse("portal:paste_upload"), {"file": SimpleUploadedFile(name, data)})


def _good_codes(response):
    return [line.sku.code for line in response.context["result"].lines]


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [
        ("utf-8", ","),
        ("utf-8-sig", ";"),
        ("latin-1", ","),
        ("cp1252", ";"),
        ("utf-16", "\t"),
        ("utf-16-be-bom", ","),
    ],
)
def test_csv_in_the_encodings_and_delimiters_spreadsheets_write(portal, shop, encoding, delimiter):
    a, b = shop["skus"][:2]
    text = f'SKU{delimiter}Qty\r\n{a.code}{delimiter}6\r\n"{b.code}"{delimiter}"12"\r\n'
    text += f"Café “Blanc”{delimiter}1\r\n"
    if encoding == "utf-16-be-bom":
        data = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    else:
        data = text.encode(encoding, errors="replace")
    before = _state()

    response = _upload(portal, data)

    assert response.status_code == 200
    assert _good_codes(response) == [a.code, b.code]
    (error,) = response.context["result"].errors
    assert error.line_number == 4
    assert "Unknown SKU" in error.reason
    if encoding in ("utf-8", "utf-8-sig", "cp1252", "utf-16", "utf-16-be-bom"):
        assert "Café “Blanc”" in error.text
    assert _state() == before  # checking a file adds nothing until the buyer confirms


def test_csv_with_quoted_newlines_and_formula_cells(portal, shop):
    a = shop["skus"][0]
    data = (
        f'"{a.code}",6\n"=HYPERLINK(""http://evil.example"",""x"")",1\n"WLK\n-1",2\n@SUM(1+1),3\n'
    ).encode()

    response = _upload(portal, data)

    assert response.status_code == 200
    assert _good_codes(response) == [a.code]
    errors = response.context["result"].errors
    assert {e.line_number for e in errors} == {2, 3, 4, 5}
    body = response.content.decode()
    assert "=HYPERLINK" in body  # shown as text, in a <code> cell
    assert "<script" not in body.split("<main", 1)[-1].split("</main>", 1)[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Paste some lines or choose a CSV file."),
        (b"sku,qty\r\n", "Paste some lines or choose a CSV file."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This is not a text (CSV) file."),
        (b"A,1\n" * (MAX_UPLOAD_BYTES // 4 + 10), "The file is over 1,000 KB."),
    ],
    ids=["empty", "header only", "binary", "oversized"],
)
def test_unusable_files_get_a_clear_message(portal, data, message):
    before = _state()

    response = _upload(portal, data)

    assert response.status_code in (200, 400)
    assert message in response.content.decode()
    assert _state() == before


# --- Escaping: portal, admin, email, PDF -------------------------------------------------

MARKUP = '<script>alert("po")</script>'
ADDRESS_MARKUP = "<img src=x onerror=alert(1)> Dock 5"


@pytest.fixture
def marked_up_order(shop, account, buyer):
    account.ship_tos.update(is_default=False)
    ShipToFactory(account=account, line1=ADDRESS_MARKUP, is_default=True)
    return order_place(
        account=account,
        user=buyer,
        lines=[LineRequest(shop["skus"][0].code, 6)],
        po_number=MARKUP,
    ).order


def test_markup_in_po_and_address_is_text_in_the_portal(marked_up_order, buyer):
    client = Client()
    client.force_login(buyer)

    pages = [
        reverse("portal:order_detail", args=[marked_up_order.number]),
        reverse("portal:order_list"),
        reverse("portal:review"),
    ]
    for url in pages:
        body = client.get(url).content.decode()
        assert "<script>alert" not in body, url
        assert "<img src=x" not in body, url
    detail = client.get(pages[0]).content.decode()
    assert "&lt;script&gt;alert(&quot;po&quot;)&lt;/script&gt;" in detail
    review = client.get(pages[2]).content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt; Dock 5" in review


def test_markup_in_po_is_text_in_the_admin(marked_up_order):
    client = Client()
    client.force_login(StaffFactory(is_superuser=True))

    for url in (
        reverse("admin:orders_order_changelist"),
        reverse("admin:orders_order_change", args=[marked_up_order.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "<script>alert" not in body, url
        assert "&lt;script&gt;" in body, url


def test_markup_in_po_is_text_in_the_confirmation_email(marked_up_order):
    from notifications.rendering import render_message

    message = Message.objects.get(kind="order_confirmation")
    rendered = render_message(message)

    assert "<script>alert" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert MARKUP in rendered.text  # plain text carries the characters as typed
    assert "\n" not in rendered.subject
    assert "\r" not in rendered.subject


def test_markup_in_po_and_address_is_text_in_the_invoice_pdf(marked_up_order):
    import io

    from pypdf import PdfReader

    from orders.documents import document_pdf
    from orders.services.fulfilment import shipment_confirm

    result = shipment_confirm(
        order=marked_up_order,
        carrier="UPS",
        tracking="1Z999AA10123456784",
        lines=[(marked_up_order.lines.get().sku.code, 6)],
        user=None,
    )
    pdf = document_pdf(kind="invoice", pk=result.invoice.pk)

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert 'alert("po")' in text.replace("\n", "")
    assert "<script>" in text.replace("\n", "")
    assert "<img src=x onerror=alert(1)> Dock 5" in text

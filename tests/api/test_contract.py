"""The v1 contract as DESIGN.md publishes it: paths, field names, types (ISO dates, money
as decimal strings, quantities as integers), the list shape, and query counts."""

import datetime as dt
import re

import pytest
from knox.models import AuthToken

from orders.models import Order
from tests.api.conftest import PDF_BYTES
from tests.factories import SKUFactory, StockLevelFactory

V1 = "/api/v1"
MONEY = re.compile(r"^-?\d+\.\d{2}$")
LIST_KEYS = {"count", "next", "previous", "results"}


def is_iso_date(value) -> bool:
    return isinstance(value, str) and dt.date.fromisoformat(value).isoformat() == value


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def test_skus_list_items_carry_the_published_fields(world, buyer_api):
    response = buyer_api.get(f"{V1}/skus/", {"q": world.sku.code})
    assert response.status_code == 200
    data = response.json()
    assert set(data) == LIST_KEYS
    (item,) = data["results"]
    assert {
        "sku",
        "upc",
        "style",
        "color",
        "size",
        "width",
        "price",
        "msrp",
        "ats",
        "next_eta",
        "core",
        "replenishment",
    } <= set(item)
    assert item["sku"] == world.sku.code
    assert MONEY.match(item["price"])
    assert MONEY.match(item["msrp"])
    assert is_int(item["ats"])
    assert isinstance(item["core"], bool)


def test_next_eta_is_an_iso_date_for_a_sku_with_inbound(world, buyer_api):
    response = buyer_api.get(f"{V1}/skus/", {"q": world.backorderable.code})
    (item,) = response.json()["results"]
    assert is_iso_date(item["next_eta"])


def test_availability_is_ats_now_and_by_date(world, buyer_api):
    response = buyer_api.get(f"{V1}/skus/{world.sku.code}/availability/")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"sku", "ats", "by_date"}
    assert is_int(data["ats"])
    assert data["by_date"]
    for point in data["by_date"]:
        assert set(point) == {"date", "ats"}
        assert is_iso_date(point["date"])
        assert is_int(point["ats"])


def test_inbound_calendar_lists_runs_with_eta_and_status(world, buyer_api):
    response = buyer_api.get(f"{V1}/inbound/")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == LIST_KEYS
    (run,) = data["results"]
    assert run["reference"] == world.run_reference
    assert is_iso_date(run["eta"])
    assert run["status"] == "confirmed"
    assert all(is_int(line["quantity"]) for line in run["lines"])


def test_placed_order_has_the_published_shape(world, buyer_api):
    body = {
        "po_number": "PO-CONTRACT",
        "backorders": "allow",
        "lines": [{"sku": world.sku.code, "quantity": 6}],
    }
    response = buyer_api.post(f"{V1}/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert {"number", "status", "lines", "freight", "total"} <= set(data)
    assert MONEY.match(data["freight"])
    assert MONEY.match(data["total"])
    (line,) = data["lines"]
    published = {
        "id",
        "sku",
        "quantity",
        "allocated",
        "backordered",
        "shipped",
        "cancelled",
        "promised_date",
    }
    assert published <= set(line)
    assert all(is_int(line[name]) for name in published - {"sku", "promised_date"})
    assert line["quantity"] == line["allocated"] + line["backordered"] + line["cancelled"]
    assert line["promised_date"] is None or is_iso_date(line["promised_date"])


def test_order_detail_and_list_use_the_order_number(world, buyer_api):
    number = world.mine.order.number
    detail = buyer_api.get(f"{V1}/orders/{number}/")
    assert detail.status_code == 200
    backordered = next(line for line in detail.json()["lines"] if line["backordered"])
    assert is_iso_date(backordered["promised_date"])
    listed = buyer_api.get(f"{V1}/orders/").json()
    assert set(listed) == LIST_KEYS
    assert number in {order["number"] for order in listed["results"]}


def test_cancel_without_lines_cancels_every_open_pair(world, buyer_api):
    number = world.mine.order.number
    response = buyer_api.post(f"{V1}/orders/{number}/cancel/", {}, format="json")
    assert response.status_code == 200, response.json()
    lines = response.json()["lines"]
    assert all(line["allocated"] == line["backordered"] == 0 for line in lines)
    assert all(line["cancelled"] == line["quantity"] for line in lines)


def test_backorder_decision_keep(world, buyer_api):
    line = world.mine.backordered_line
    response = buyer_api.post(
        f"{V1}/backorders/{line.pk}/decision/", {"action": "keep"}, format="json"
    )
    # Keeping a line that was never asked about is either accepted or refused with a reason.
    assert response.status_code in (200, 403, 409), response.json()
    if response.status_code == 200:
        assert response.json()["line"]["id"] == line.pk
    else:
        assert response.json()["detail"]


def test_shipments_and_invoices_lists(world, buyer_api):
    shipments = buyer_api.get(f"{V1}/shipments/").json()
    assert set(shipments) == LIST_KEYS
    (shipment,) = shipments["results"]
    assert shipment["number"] == world.mine.shipment.number
    assert all(is_int(line["quantity"]) for line in shipment["lines"])
    invoices = buyer_api.get(f"{V1}/invoices/").json()
    assert set(invoices) == LIST_KEYS
    (invoice,) = invoices["results"]
    assert invoice["number"] == world.mine.invoice.number
    assert is_iso_date(invoice["issued_on"])
    assert is_iso_date(invoice["due_on"])
    for money in ("subtotal", "freight", "total", "paid", "credited", "balance"):
        assert MONEY.match(invoice[money]), money


@pytest.mark.parametrize("accept", [None, "application/pdf", "application/pdf, */*"])
def test_invoice_pdf_is_a_pdf_whatever_the_client_accepts(world, buyer_api, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = buyer_api.get(f"{V1}/invoices/{world.mine.invoice.number}/pdf/", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF_BYTES


def test_staff_feeds_answer_with_their_published_fields(world, integration_api, warehouse):
    # given a SKU the warehouse counts
    sku = SKUFactory()
    StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=10)
    # when the ERP and warehouse push stock, a run, an ETA move and a receipt
    sync = integration_api.post(
        f"{V1}/stock/sync/", [{"sku": sku.code, "on_hand": 12}], format="json"
    )
    eta = (dt.date.today() + dt.timedelta(days=40)).isoformat()  # noqa: DTZ011
    run = integration_api.post(
        f"{V1}/inbound/",
        {"reference": "PO-NEW-1", "eta": eta, "lines": [{"sku": sku.code, "quantity": 24}]},
        format="json",
    )
    moved = integration_api.post(
        f"{V1}/inbound/PO-NEW-1/eta/",
        {"eta": (dt.date.today() + dt.timedelta(days=45)).isoformat(), "reason": "Late fabric"},  # noqa: DTZ011
        format="json",
    )
    received = integration_api.post(f"{V1}/inbound/PO-NEW-1/receive/", {}, format="json")
    # then each answers with its documented body
    assert sync.status_code == 200, sync.json()
    assert sync.json()["changed"] == 1
    assert run.status_code == 201, run.json()
    assert run.json()["reference"] == "PO-NEW-1"
    assert is_iso_date(run.json()["eta"])
    assert moved.status_code == 200, moved.json()
    assert is_iso_date(moved.json()["eta"])
    assert received.status_code in (200, 201), received.json()
    assert received.json()["received"] == {sku.code: 24}


def test_warehouse_shipment_confirmation_returns_shipment_and_invoice(world, integration_api):
    order = world.mine.order
    allocated = order.lines.get(sku=world.sku)
    response = integration_api.post(
        f"{V1}/shipments/",
        {
            "order": order.number,
            "carrier": "UPS",
            "tracking": "1Z999AA10123456799",
            "lines": [{"sku": world.sku.code, "quantity": allocated.allocated}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert set(response.json()) == {"shipment", "invoice"}
    assert MONEY.match(response.json()["invoice"]["total"])


LISTS = [
    "skus/",
    "inbound/",
    "orders/",
    "shipments/",
    "invoices/",
    "claims/",
    "accounts/",
    "ship-tos/",
    "backorders/",
]


@pytest.mark.parametrize("path", LISTS)
def test_lists_take_a_bounded_number_of_queries(world, buyer, path, django_assert_max_num_queries):
    from tests.conftest import api_client_for

    # given more of everything than one row of each
    for index in range(5):
        Order.objects.create(
            account=world.mine.account,
            terms=world.mine.order.terms,
            number=f"SO-EXTRA-{index}",
        )
    api = api_client_for(buyer)
    with django_assert_max_num_queries(14):
        response = api.get(f"{V1}/{path}")
    assert response.status_code == 200
    assert response.json()["results"]


def test_every_published_endpoint_is_routed():
    """The set of v1 routes is exactly DESIGN.md's list."""
    from tests.api.routes import v1_routes

    published = {
        "skus/",
        "skus/<str:sku>/availability/",
        # The line sheet, PDF or XLSX, as the portal's download (issue 20: line sheets).
        "line-sheet/",
        "inbound/",
        "orders/",
        "orders/<str:number>/",
        "orders/<str:number>/cancel/",
        # Changing an open order (issue 20: "add lines to and reduce lines of an open order").
        "orders/<str:number>/lines/",
        "backorders/<int:line_id>/decision/",
        # Open backorders, listed and exported (issue 20: exports of backorders).
        "backorders/",
        "shipments/",
        "invoices/",
        "invoices/<str:number>/pdf/",
        "stock/sync/",
        "inbound/<str:reference>/eta/",
        "inbound/<str:reference>/receive/",
        "inbound/<str:reference>/cancel/",
        "credit-memos/",
        "credit-memos/<str:number>/pdf/",
        # The warehouse's receipt of a return (issue 19: "received at the warehouse (API
        # and admin)").
        "returns/<str:number>/receive/",
        "claims/",
        "claims/<str:number>/",
        "claims/<str:number>/photos/<int:photo_id>/",
        "accounts/",
        "ship-tos/",
        "webhooks/",
        "webhooks/<int:pk>/",
    }
    assert {route.pattern for route in v1_routes()} == published


def test_revoked_token_is_refused(buyer):
    from tests.conftest import api_client_for

    api = api_client_for(buyer)
    assert api.get(f"{V1}/orders/").status_code == 200
    AuthToken.objects.filter(user=buyer).delete()
    response = api.get(f"{V1}/orders/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token.", "errors": {}}


def test_invoice_pdf_errors_stay_json_when_a_pdf_was_asked_for(world, buyer_api, document_renders):
    world.mine.invoice.pdf.delete(save=True)
    response = buyer_api.get(
        f"{V1}/invoices/{world.mine.invoice.number}/pdf/", HTTP_ACCEPT="application/pdf"
    )
    assert response.status_code == 202
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"]
    assert set(response.json()) == {"detail", "retry_after"}
    missing = buyer_api.get(f"{V1}/invoices/INV-NOPE/pdf/", HTTP_ACCEPT="application/pdf")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/json"
    assert missing.json() == {"detail": "No such invoice.", "errors": {}}

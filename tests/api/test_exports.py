"""`?format=csv|xlsx` on the API's lists: the caller's rows only, filtered as the JSON
list is, formula-safe, and in a number of queries that does not grow with the rows."""

import pytest

from orders.models import Order
from tests.exports.helpers import csv_rows, xlsx_rows

V1 = "/api/v1"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.mark.parametrize(
    ("path", "first_column", "number_of"),
    [
        ("orders/", "Order", lambda tenant: tenant.order.number),
        ("shipments/", "Shipment", lambda tenant: tenant.shipment.number),
        ("invoices/", "Invoice", lambda tenant: tenant.invoice.number),
        ("backorders/", "Order", lambda tenant: tenant.backordered_line.order.number),
    ],
)
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_list_downloads_with_only_the_callers_rows(
    world, buyer_api, path, first_column, number_of, file_format
):
    response = buyer_api.get(f"{V1}/{path}", {"format": file_format})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert f".{file_format}" in response["Content-Disposition"]
    if file_format == "csv":
        assert response["Content-Type"].startswith("text/csv")
        header, *rows = csv_rows(response)
    else:
        assert response["Content-Type"] == XLSX
        header, *rows = xlsx_rows(response)
    assert header[0] == first_column
    numbers = {row[0] for row in rows}
    assert number_of(world.mine) in numbers
    assert number_of(world.theirs) not in numbers


def test_the_download_keeps_the_lists_filters(world, buyer_api):
    # given two orders of mine, one with the PO asked for
    everything = {row[0] for row in csv_rows(buyer_api.get(f"{V1}/orders/", {"format": "csv"}))}
    assert len(everything - {"Order"}) >= 2
    # when
    response = buyer_api.get(
        f"{V1}/orders/", {"format": "csv", "po_number": world.mine.order.po_number}
    )
    # then
    _, *rows = csv_rows(response)
    assert [row[0] for row in rows] == [world.mine.order.number]


def test_a_bad_filter_is_still_a_json_400(world, buyer_api):
    response = buyer_api.get(f"{V1}/invoices/", {"format": "csv", "status": "nonsense"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "status" in response.json()["errors"]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_text_that_would_run_as_a_formula_is_quoted(world, buyer_api, file_format):
    Order.objects.filter(pk=world.mine.order.pk).update(po_number='=HYPERLINK("x","y")')
    response = buyer_api.get(f"{V1}/orders/", {"format": file_format})
    rows = csv_rows(response) if file_format == "csv" else xlsx_rows(response)
    po = rows[0].index("PO number")
    (row,) = [row for row in rows if row[0] == world.mine.order.number]
    assert row[po] == '\'=HYPERLINK("x","y")'


@pytest.mark.parametrize("path", ["orders/", "shipments/", "invoices/", "backorders/"])
def test_a_download_takes_the_same_queries_for_many_rows_as_for_few(
    world, buyer_api, path, django_assert_max_num_queries
):
    def queries_for_download():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            response = buyer_api.get(f"{V1}/{path}", {"format": "csv"})
            assert len(csv_rows(response)) > 1
        return len(captured)

    few = queries_for_download()
    # given many more orders (and, for shipments and invoices, the same few documents)
    Order.objects.bulk_create(
        Order(account=world.mine.account, terms=world.mine.order.terms, number=f"SO-X{n}")
        for n in range(60)
    )
    with django_assert_max_num_queries(few):
        response = buyer_api.get(f"{V1}/{path}", {"format": "csv"})
        assert len(csv_rows(response)) > 1


def test_a_multi_account_caller_sees_which_account_each_row_is(world, buyer):
    from tests.conftest import api_client_for
    from tests.factories import MembershipFactory

    MembershipFactory(account=world.theirs.account, user=buyer)
    api = api_client_for(buyer)
    shipments = api.get(f"{V1}/shipments/").json()["results"]
    assert {(s["number"], s["account"]) for s in shipments} >= {
        (world.mine.shipment.number, world.mine.account.number),
        (world.theirs.shipment.number, world.theirs.account.number),
    }
    for path in ("orders/", "shipments/", "invoices/", "backorders/"):
        header, *rows = csv_rows(api.get(f"{V1}/{path}", {"format": "csv"}))
        accounts = {row[header.index("Account")] for row in rows}
        assert accounts == {world.mine.account.number, world.theirs.account.number}, path


def test_the_backorders_list_gives_each_open_backorder_with_its_expected_date(world, buyer_api):
    line = world.mine.backordered_line
    response = buyer_api.get(f"{V1}/backorders/")
    assert response.status_code == 200
    (item,) = response.json()["results"]
    assert item["id"] == line.pk
    assert (item["order"], item["account"], item["sku"]) == (
        line.order.number,
        world.mine.account.number,
        line.sku.code,
    )
    assert item["backordered"] == 12
    assert item["expected_date"]  # pegged to the run the world has coming
    assert item["expected_basis"]
    # ?order= narrows it, in the JSON list and the download alike
    other = buyer_api.get(f"{V1}/backorders/", {"order": "SO-NONE"}).json()
    assert other["results"] == []
    _, *rows = csv_rows(buyer_api.get(f"{V1}/backorders/", {"format": "csv", "order": "SO-NONE"}))
    assert rows == []
    header, *rows = csv_rows(buyer_api.get(f"{V1}/backorders/", {"format": "csv"}))
    assert [row[header.index("Backordered")] for row in rows] == ["12"]
    assert rows[0][header.index("Expected")] == item["expected_date"]

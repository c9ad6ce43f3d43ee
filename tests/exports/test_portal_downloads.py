"""The portal's download links: each list as CSV or XLSX with the page's filters, the
current account's rows only, and a number of queries that does not grow with the rows."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Invoice, InvoiceStatus, Order
from orders.selectors import line_promises
from orders.services import LineRequest, order_place
from orders.services.fulfilment import shipment_confirm
from tests.exports.helpers import csv_rows, numbers_in, xlsx_rows
from tests.factories import MembershipFactory, UserFactory


def url(name, file_format="csv"):
    return reverse("portal:export", args=[name, file_format])


def test_each_list_downloads_the_current_accounts_rows_only(world, buyer_client):
    mine, theirs = world.mine, world.theirs
    expected = {
        "orders": (mine.order.number, theirs.order.number),
        "order-lines": (mine.order.number, theirs.order.number),
        "backorders": (mine.order.number, theirs.order.number),
        "shipments": (mine.shipment.number, theirs.shipment.number),
        "invoices": (mine.invoice.number, theirs.invoice.number),
    }
    for name, (ours, other) in expected.items():
        for file_format in ("csv", "xlsx"):
            response = buyer_client.get(url(name, file_format))
            assert response.status_code == 200, name
            assert mine.account.number in response["Content-Disposition"]
            rows = csv_rows(response) if file_format == "csv" else xlsx_rows(response)
            listed = {row[0] for row in rows[1:]}
            assert ours in listed, (name, file_format)
            assert other not in listed, (name, file_format)


def test_a_user_in_both_accounts_downloads_only_the_account_they_are_in(world, buyer_client):
    MembershipFactory(account=world.theirs.account, user=world.mine.order.placed_by)
    buyer_client.post(reverse("portal:account_switch"), {"account": world.theirs.account.pk})
    listed = numbers_in(buyer_client.get(url("orders")))
    assert world.theirs.order.number in listed
    assert world.mine.order.number not in listed


def test_the_orders_download_keeps_the_pages_filters(world, buyer_client):
    po = world.mine.order.po_number
    assert numbers_in(buyer_client.get(url("orders"), {"po_number": po})) == {
        world.mine.order.number
    }
    lines = numbers_in(buyer_client.get(url("order-lines"), {"po_number": po}))
    assert lines == {world.mine.order.number}


def test_the_shipment_and_invoice_downloads_keep_the_pages_filters(world, buyer_client):
    shipments = buyer_client.get(url("shipments"), {"order": "SO-NOPE"})
    assert numbers_in(shipments) == set()
    Invoice.objects.filter(pk=world.mine.invoice.pk).update(status=InvoiceStatus.PAID)
    assert numbers_in(buyer_client.get(url("invoices"), {"status": "open"})) == set()
    assert numbers_in(buyer_client.get(url("invoices"), {"status": "paid"})) == {
        world.mine.invoice.number
    }


def test_a_backorders_expected_date_is_the_eta_tables(world, buyer_client):
    header, *rows = csv_rows(buyer_client.get(url("backorders")))
    (row,) = rows
    line = world.mine.backordered_line
    assert row[header.index("SKU")] == line.sku.code
    assert row[header.index("Backordered")] == str(line.backordered)
    promise = line_promises(lines=[line])[line.pk]
    assert row[header.index("Expected")] == promise.date.isoformat()
    assert row[header.index("Expected because")] == promise.basis


def test_the_pages_link_their_downloads_with_the_current_filters(world, buyer_client):
    page = buyer_client.get(reverse("portal:order_list"), {"po_number": "PO-X"}).content.decode()
    assert f"{url('orders')}?po_number=PO-X" in page
    assert f"{url('order-lines', 'xlsx')}?po_number=PO-X" in page
    page = buyer_client.get(reverse("portal:invoice_list"), {"status": "open"}).content.decode()
    assert f"{url('invoices')}?status=open" in page
    page = buyer_client.get(reverse("portal:shipment_list")).content.decode()
    assert f'href="{url("shipments", "xlsx")}"' in page
    page = buyer_client.get(reverse("portal:backorders")).content.decode()
    assert f'href="{url("backorders")}"' in page


def test_unknown_downloads_and_users_without_an_account_get_404(world, buyer_client, client):
    assert buyer_client.get("/exports/claims.csv").status_code == 404
    assert buyer_client.get("/exports/orders.pdf").status_code == 404
    client.force_login(UserFactory())
    assert client.get(url("orders")).status_code == 404


def test_downloads_take_the_same_queries_for_many_rows_as_for_few(
    world, buyer_client, django_assert_max_num_queries
):
    def download_queries():
        counts = {}
        for name in ("orders", "order-lines", "backorders", "invoices", "shipments"):
            with CaptureQueriesContext(connection) as captured:
                csv_rows(buyer_client.get(url(name)))
            counts[name] = len(captured)
        return counts

    few = download_queries()
    # given many more orders, lines and backorders, shipments and invoices
    for index in range(15):
        order = order_place(
            account=world.mine.account,
            user=world.mine.order.placed_by,
            lines=[LineRequest(world.sku.code, 3), LineRequest(world.backorderable.code, 3)],
            po_number=f"PO-MORE-{index}",
        ).order
        if index % 3 == 0:
            shipment_confirm(
                order=order,
                carrier="UPS",
                tracking=f"1ZMORE{index}",
                lines=[(world.sku.code, 3)],
                user=None,
            )
    assert Order.objects.filter(account=world.mine.account).count() > 15
    assert Invoice.objects.filter(account=world.mine.account).count() > 5
    for name, count in few.items():
        with django_assert_max_num_queries(count):
            rows = csv_rows(buyer_client.get(url(name)))
        assert rows, name

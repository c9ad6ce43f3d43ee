import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders import tasks
from orders.models import Invoice, OrderLine, Shipment
from orders.services.fulfilment import payment_record, shipment_confirm
from portal.views.documents import DOWNLOAD_LINK_MAX_AGE
from tests.conftest import api_client_for
from tests.factories import SKUFactory, StaffFactory, allocated_order_create

SHIPMENTS = "/api/v1/shipments/"
INVOICES = "/api/v1/invoices/"


@pytest.fixture
def warehouse_api(db):
    user = StaffFactory()
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="orders", codename="add_shipment")
    )
    return api_client_for(user)


def _shipped(account, *, tracking="1Z0001", price="60.00", quantity=6):
    sku = SKUFactory(price=Decimal(price))
    order = allocated_order_create(account=account, lines=[(sku, quantity)])
    return shipment_confirm(
        order=order, carrier="UPS", tracking=tracking, lines=[(sku.code, quantity)], user=None
    )


# --- POST /shipments/ (warehouse) ----------------------------------------------------------


def test_warehouse_confirms_a_shipment_and_gets_its_invoice(account, warehouse_api):
    sku = SKUFactory(price=Decimal("45.50"))
    order = allocated_order_create(account=account, lines=[(sku, 12)])
    body = {
        "order": order.number,
        "carrier": "FedEx",
        "tracking": "7712 3456",
        "lines": [{"sku": sku.code, "quantity": 10}],
    }
    response = warehouse_api.post(SHIPMENTS, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["shipment"]["lines"] == [{"sku": sku.code, "quantity": 10}]
    assert data["shipment"]["packages"][0] == {
        "tracking": "7712",
        "tracking_url": "https://www.fedex.com/fedextrack/?trknbr=7712",
    }
    assert data["invoice"]["number"] == "INV-000001"
    assert data["invoice"]["subtotal"] == "455.00"
    # the order (12 x 45.50 = 546.00) earned free freight, so none is invoiced
    assert data["invoice"]["freight"] == "0.00"
    assert data["invoice"]["total"] == "455.00"
    # the same confirmation again returns the same shipment, shipping nothing twice
    again = warehouse_api.post(SHIPMENTS, body, format="json")
    assert again.status_code == 200
    assert again.json()["shipment"]["number"] == data["shipment"]["number"]
    assert OrderLine.objects.get(order=order).shipped == 10


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": [{"sku": "{sku}", "quantity": 13}]}, "lines[0].quantity"),
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "lines[0].sku"),
        ({"lines": []}, "lines"),
        ({"order": "SO-0"}, "order"),
        ({"tracking": ""}, "tracking"),
        ({"lines": [{"sku": "{sku}", "quantity": "x"}]}, "lines[0].quantity"),
    ],
)
def test_bad_shipment_bodies_get_a_400_naming_the_field(account, warehouse_api, change, field):
    sku = SKUFactory()
    order = allocated_order_create(account=account, lines=[(sku, 12)])
    body = {"order": order.number, "carrier": "UPS", "tracking": "1Z0001"}
    body["lines"] = [{"sku": sku.code, "quantity": 1}]
    for key, value in change.items():
        if key == "lines":
            value = [{**line, "sku": line["sku"].format(sku=sku.code)} for line in value]
        body[key] = value
    response = warehouse_api.post(SHIPMENTS, body, format="json")
    assert response.status_code == 400
    assert any(key.startswith(field) for key in response.json()["errors"])
    assert not Shipment.objects.exists()


def test_only_staff_with_the_permission_confirm_shipments(account, buyer_api):
    sku = SKUFactory()
    order = allocated_order_create(account=account, lines=[(sku, 12)])
    body = {
        "order": order.number,
        "carrier": "UPS",
        "tracking": "1Z1",
        "lines": [{"sku": sku.code, "quantity": 1}],
    }
    assert buyer_api.post(SHIPMENTS, body, format="json").status_code == 403
    plain_staff = api_client_for(StaffFactory())
    assert plain_staff.post(SHIPMENTS, body, format="json").status_code == 403
    assert not Shipment.objects.exists()


# --- GET lists, scoped -------------------------------------------------------------------------


def test_shipments_list_is_scoped_and_has_tracking_urls(
    account, other_account, buyer_api, django_assert_max_num_queries
):
    for n in range(3):
        _shipped(account, tracking=f"1ZMINE{n}")
    theirs = _shipped(other_account, tracking="1ZTHEIRS")
    with django_assert_max_num_queries(8):
        response = buyer_api.get(SHIPMENTS)
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 3
    assert theirs.shipment.number not in [r["number"] for r in results]
    assert results[0]["packages"][0]["tracking_url"].startswith("https://www.ups.com/track?")


def test_invoices_list_filters_by_status_and_is_scoped(
    account, other_account, buyer_api, django_assert_max_num_queries
):
    paid = _shipped(account, tracking="1ZPAID").invoice
    payment_record(invoice=paid, amount=paid.total)
    late = _shipped(account, tracking="1ZLATE").invoice
    Invoice.objects.filter(pk=late.pk).update(due_on=timezone.localdate() - dt.timedelta(days=3))
    current = _shipped(account, tracking="1ZOPEN").invoice
    _shipped(other_account, tracking="1ZOTHER")
    with django_assert_max_num_queries(8):
        everything = buyer_api.get(INVOICES).json()["results"]
    assert sorted(i["number"] for i in everything) == sorted(
        [paid.number, late.number, current.number]
    )

    def numbers(status):
        return [i["number"] for i in buyer_api.get(INVOICES, {"status": status}).json()["results"]]

    assert numbers("overdue") == [late.number]
    assert numbers("open") == [current.number]
    assert numbers("paid") == [paid.number]
    response = buyer_api.get(INVOICES, {"status": "late"})
    assert response.status_code == 400
    assert "status" in response.json()["errors"]


def test_invoice_pdf_download_is_scoped_and_waits_for_the_render(
    account, buyer_api, other_api, document_renders
):
    invoice = _shipped(account).invoice
    url = f"{INVOICES}{invoice.number}/pdf/"
    # not yet rendered: 202 with Retry-After, never a render on the request
    response = buyer_api.get(url)
    assert response.status_code == 202
    assert response["Retry-After"] == "5"
    assert not Invoice.objects.get(pk=invoice.pk).pdf
    # rendered: the PDF
    tasks.document_render_task("invoice", invoice.pk)
    response = buyer_api.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    # another account's caller: 404
    assert other_api.get(url).status_code == 404
    assert buyer_api.get(f"{INVOICES}INV-999999/pdf/").status_code == 404


# --- portal pages ------------------------------------------------------------------------------


def test_portal_shipments_page_lists_tracking_links(
    account, buyer_client, django_assert_max_num_queries
):
    for n in range(4):
        _shipped(account, tracking=f"1ZPAGE{n}")
    with django_assert_max_num_queries(12):
        response = buyer_client.get(reverse("portal:shipment_list"))
    assert response.status_code == 200
    assert b"https://www.ups.com/track?tracknum=1ZPAGE0" in response.content


def test_portal_invoices_page_filters_and_totals(
    account, buyer_client, django_assert_max_num_queries
):
    late = _shipped(account, tracking="1ZLATE", price="100.00").invoice  # 600.00
    Invoice.objects.filter(pk=late.pk).update(due_on=timezone.localdate() - dt.timedelta(days=1))
    _shipped(account, tracking="1ZOPEN", price="50.00")  # 300.00 + 15.00 freight
    with django_assert_max_num_queries(12):
        response = buyer_client.get(reverse("portal:invoice_list"))
    assert response.status_code == 200
    assert response.context["summary"]["open_total"] == Decimal("915.00")
    assert response.context["summary"]["overdue_total"] == Decimal("600.00")
    overdue = buyer_client.get(reverse("portal:invoice_list"), {"status": "overdue"})
    assert [i.number for i in overdue.context["page"].object_list] == [late.number]
    assert buyer_client.get(reverse("portal:invoice_list"), {"status": "<x>"}).status_code == 200


def test_portal_pdf_downloads_are_scoped_and_say_when_being_prepared(
    account, other_account, buyer_client, document_renders
):
    mine = _shipped(account, tracking="1ZMINE")
    theirs = _shipped(other_account, tracking="1ZTHEIRS")
    url = reverse("portal:invoice_pdf", args=[mine.invoice.number])
    response = buyer_client.get(url)
    assert response.status_code == 202
    assert b"being prepared" in response.content
    assert not Invoice.objects.get(pk=mine.invoice.pk).pdf
    tasks.document_render_task("invoice", mine.invoice.pk)
    response = buyer_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    for name, number in [
        ("portal:invoice_pdf", theirs.invoice.number),
        ("portal:packing_list_pdf", theirs.shipment.number),
    ]:
        assert buyer_client.get(reverse(name, args=[number])).status_code == 404


def _download_link(client, invoice_number):
    """The PDF link the invoice list shows for that invoice."""
    rows = client.get(reverse("portal:invoice_list")).context["rows"]
    return next(row["pdf_url"] for row in rows if row["invoice"].number == invoice_number)


def test_the_invoice_list_links_a_signed_download_that_streams_without_an_invoice_query(
    account, buyer_client, document_renders, django_assert_max_num_queries
):
    invoice = _shipped(account).invoice
    # not yet rendered: the list links the signed-in URL, which says it is being prepared
    waiting = _download_link(buyer_client, invoice.number)
    assert waiting == reverse("portal:invoice_pdf", args=[invoice.number])
    assert buyer_client.get(waiting).status_code == 202
    # rendered: a signed link, served after reading only the session and its user (from
    # the shared cache when it has them)
    tasks.document_render_task("invoice", invoice.pk)
    link = _download_link(buyer_client, invoice.number)
    assert link.startswith(f"/invoices/{invoice.number}/pdf/")
    with django_assert_max_num_queries(2):
        response = buyer_client.get(link)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{invoice.number}.pdf"' in response["Content-Disposition"]
    assert "private" in response["Cache-Control"]
    stored = Invoice.objects.get(pk=invoice.pk).pdf.read()
    assert b"".join(response.streaming_content) == stored


def test_a_signed_download_is_refused_when_altered_moved_or_used_by_another_session(
    account, other_account, other_buyer, buyer_client
):
    mine = _shipped(account, tracking="1ZMINE").invoice
    theirs = _shipped(other_account, tracking="1ZTHEIRS").invoice
    tasks.document_render_task("invoice", mine.pk)
    tasks.document_render_task("invoice", theirs.pk)
    link = _download_link(buyer_client, mine.number)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert buyer_client.get(link).status_code == 200
    # the other account's invoice is never linked on this buyer's list
    assert theirs.number not in str(buyer_client.get(reverse("portal:invoice_list")).content)
    # the payload rewritten for their invoice, the signature kept: refused
    payload, signature = token.split(":", 1)
    data = signing.b64_decode(payload.encode()).replace(
        mine.number.encode(), theirs.number.encode()
    )
    forged = signing.b64_encode(data).decode() + ":" + signature
    stolen = reverse("portal:invoice_download", args=[theirs.number, forged])
    assert buyer_client.get(stolen).status_code == 404
    # a character changed, or the genuine token under another invoice's number: refused
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert buyer_client.get(link.replace(token, altered)).status_code == 404
    moved = reverse("portal:invoice_download", args=[theirs.number, token])
    assert buyer_client.get(moved).status_code == 404
    # the genuine link in another browser: signed out, or signed in as someone else
    assert Client().get(link).status_code == 404
    stranger = Client()
    stranger.force_login(other_buyer)
    assert stranger.get(link).status_code == 404
    # and in the same browser once signed out (the session it was issued to is gone)
    buyer_client.logout()
    assert buyer_client.get(link).status_code == 404


@pytest.mark.parametrize("ending", ["sign-out", "sessions-ended", "password-changed"])
def test_a_download_link_ends_with_the_session_it_was_issued_to(
    account, buyer, buyer_client, ending
):
    # given: a link, and the session cookie it is bound to, copied elsewhere
    invoice = _shipped(account).invoice
    tasks.document_render_task("invoice", invoice.pk)
    link = _download_link(buyer_client, invoice.number)
    cookie = buyer_client.cookies[settings.SESSION_COOKIE_NAME].value
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert replay.get(link).status_code == 200
    # when: the session ends
    if ending == "sign-out":
        buyer_client.post(reverse("logout"))
    elif ending == "sessions-ended":
        buyer.sessions_end()
    else:
        buyer.set_password("a-new-password-for-the-shop")
        buyer.save()
    # then: the copied cookie and the link no longer download
    assert replay.get(link).status_code == 404


def test_an_expired_download_link_goes_back_to_the_signed_in_url(
    account, other_buyer, buyer_client
):
    invoice = _shipped(account).invoice
    tasks.document_render_task("invoice", invoice.pk)
    link = _download_link(buyer_client, invoice.number)
    later = dt.datetime.now(dt.UTC) + DOWNLOAD_LINK_MAX_AGE + dt.timedelta(seconds=1)
    with time_machine.travel(later):
        response = buyer_client.get(link)
        # which checks access again: the owner gets the file, anyone else 404
        assert response.status_code == 302
        assert response.url == reverse("portal:invoice_pdf", args=[invoice.number])
        assert buyer_client.get(response.url).status_code == 200
        stranger = Client()
        stranger.force_login(other_buyer)
        assert stranger.get(link, follow=True).status_code == 404


def test_portal_statement_page_and_download(
    account, buyer_client, statement_renders, django_assert_max_num_queries
):
    invoice = _shipped(account).invoice
    with django_assert_max_num_queries(12):
        page = buyer_client.get(reverse("portal:statement"))
    assert page.status_code == 200
    assert invoice.number.encode() in page.content
    # the page's "Download PDF" link: prepared by a worker, then served
    link = f"{reverse('portal:statement_pdf')}?as_of={timezone.localdate().isoformat()}"
    assert f'href="{link}"'.encode() in page.content
    assert buyer_client.get(link).status_code == 202
    tasks.statement_render_task(*statement_renders[0])
    pdf = buyer_client.get(link)
    assert pdf.status_code == 200
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    bad = buyer_client.get(reverse("portal:statement_pdf"), {"as_of": "yesterday"})
    assert bad.status_code == 400
    future = buyer_client.get(reverse("portal:statement"), {"as_of": "2999-01-01"})
    assert future.status_code == 400

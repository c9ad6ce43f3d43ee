"""Downloads are kept in the shared cache for their caller, account and filters while
nothing they list has changed: a download repeated before any write is a cache read, one
after an order, a cancellation or an ETA change is exactly what a file never cached
holds, and no other caller or account ever gets the kept bytes."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backorders.services import eta_change
from inventory.models import InboundRun
from orders import exports
from orders.models import Membership
from orders.services import CancelRequest, LineRequest, order_cancel, order_place
from portal import page_cache
from tests.conftest import api_client_for
from tests.exports.helpers import body_of, csv_rows, numbers_in, xlsx_rows
from tests.factories import MembershipFactory, StaffFactory

pytestmark = pytest.mark.skipif(
    not getattr(cache, "is_shared", lambda: False)(),
    reason="downloads are kept only in a cache every process shares (Redis)",
)


def url(name, file_format="csv"):
    return reverse("portal:export", args=[name, file_format])


def fresh(client, path):
    """The download as one that never saw the cache answers it."""
    cache.clear()
    return client.get(path)


@pytest.mark.parametrize(
    ("name", "file_format"), [("orders", "csv"), ("backorders", "xlsx"), ("invoices", "xlsx")]
)
def test_a_download_repeated_is_the_same_file_and_makes_no_query(
    world, buyer_client, name, file_format, django_assert_max_num_queries
):
    first = buyer_client.get(url(name, file_format))
    with django_assert_max_num_queries(0):
        again = buyer_client.get(url(name, file_format))
    assert body_of(again) == body_of(first)
    assert again["Content-Type"] == first["Content-Type"]
    assert again["Content-Disposition"] == first["Content-Disposition"]
    assert world.mine.account.number in again["Content-Disposition"]


def test_the_orders_download_lists_an_order_placed_and_a_cancellation_at_once(
    world, buyer_client, buyer
):
    mine = world.mine
    before = csv_rows(buyer_client.get(url("orders")))
    # when the buyer places an order through the service
    placed = order_place(
        account=mine.account,
        user=buyer,
        lines=[LineRequest(world.sku.code, 6)],
        po_number="PO-KEPT-NEW",
    ).order
    # then the next download lists it, as a file never cached does
    after = buyer_client.get(url("orders"))
    assert placed.number in numbers_in(after)
    assert len(csv_rows(after)) == len(before) + 1
    assert body_of(after) == body_of(fresh(buyer_client, url("orders")))
    # and when it is cancelled, its status and open pairs move on the next download
    order_cancel(order=placed, user=buyer)
    header, *rows = csv_rows(buyer_client.get(url("orders")))
    (row,) = [row for row in rows if row[0] == placed.number]
    assert row[header.index("Status")] == "Cancelled"
    assert row[header.index("Pairs open")] == "0"
    assert body_of(buyer_client.get(url("orders"))) == body_of(fresh(buyer_client, url("orders")))


def test_the_backorders_file_shows_a_cancelled_pair_and_an_eta_change_on_the_next_download(
    world, buyer_client, buyer
):
    line = world.mine.backordered_line
    path = url("backorders", "xlsx")

    def the_line():
        header, *rows = xlsx_rows(buyer_client.get(path))
        (row,) = rows
        return dict(zip(header, row, strict=False))

    before = the_line()
    assert before["Backordered"] == "12"
    # when the retailer cancels two pairs of the backorder
    order_cancel(order=line.order, user=buyer, lines=[CancelRequest(line.pk, 2)])
    assert the_line()["Backordered"] == "10"
    # and the planner moves the run's ETA 40 days later
    run = InboundRun.objects.get(reference=world.run_reference)
    expected = the_line()["Expected"]
    eta_change(
        run=run,
        new_eta=timezone.localdate() + dt.timedelta(days=40),
        reason="Late",
        user=StaffFactory(is_superuser=True),
    )
    # then the next download shows the new expected date, as a file never cached does
    moved = the_line()
    assert moved["Expected"] != expected
    assert moved["Expected because"] != before["Expected because"]
    assert xlsx_rows(buyer_client.get(path)) == xlsx_rows(fresh(buyer_client, path))


def test_another_account_never_gets_the_kept_file(world, buyer_client, other_buyer, client):
    mine, theirs = world.mine, world.theirs
    assert mine.order.number in numbers_in(buyer_client.get(url("orders")))
    # the other account's buyer asks for the same URL right after
    client.force_login(other_buyer)
    listed = numbers_in(client.get(url("orders")))
    assert theirs.order.number in listed
    assert mine.order.number not in listed


def test_switching_account_downloads_the_other_accounts_file(world, buyer_client, buyer):
    MembershipFactory(account=world.theirs.account, user=buyer)
    assert world.mine.order.number in numbers_in(buyer_client.get(url("orders")))
    buyer_client.post(reverse("portal:account_switch"), {"account": world.theirs.account.pk})
    listed = numbers_in(buyer_client.get(url("orders")))
    assert world.theirs.order.number in listed
    assert world.mine.order.number not in listed


def test_a_buyer_removed_from_the_account_gets_no_kept_file(world, buyer_client, buyer):
    assert buyer_client.get(url("orders")).status_code == 200
    Membership.objects.filter(user=buyer, account=world.mine.account).delete()
    assert buyer_client.get(url("orders")).status_code == 404


def test_each_filter_is_kept_apart(world, buyer_client):
    po = world.mine.order.po_number
    everything = numbers_in(buyer_client.get(url("orders")))
    filtered = numbers_in(buyer_client.get(url("orders"), {"po_number": po}))
    assert filtered == {world.mine.order.number}
    assert len(everything) > len(filtered)
    assert numbers_in(buyer_client.get(url("orders"))) == everything


def test_a_new_day_writes_the_file_again(world, buyer_client, monkeypatch):
    buyer_client.get(url("orders"))
    today = timezone.localdate()
    monkeypatch.setattr(page_cache.timezone, "localdate", lambda *a: today + dt.timedelta(days=1))
    with CaptureQueriesContext(connection) as queries:
        buyer_client.get(url("orders"))
    assert len(queries) > 0


def test_a_file_over_the_size_kept_is_written_on_each_download(world, buyer_client, monkeypatch):
    monkeypatch.setattr(exports, "KEPT_BYTES_MAX", 10)
    first = body_of(buyer_client.get(url("orders")))
    with CaptureQueriesContext(connection) as queries:
        again = body_of(buyer_client.get(url("orders")))
    assert len(queries) > 0
    assert again == first


def test_the_api_keeps_each_callers_file_apart(world, buyer, other_buyer):
    path = "/api/v1/orders/?format=csv"
    mine = numbers_in(api_client_for(buyer).get(path))
    theirs = numbers_in(api_client_for(other_buyer).get(path))
    assert world.mine.order.number in mine
    assert world.mine.order.number not in theirs
    assert world.theirs.order.number in theirs
    assert world.theirs.order.number not in mine
    api = api_client_for(buyer)
    api.get(path)
    with CaptureQueriesContext(connection) as queries:
        again = api.get(path)
    assert len(queries) == 1  # the token
    assert numbers_in(again) == mine

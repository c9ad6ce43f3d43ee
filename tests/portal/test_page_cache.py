"""Portal pages are served from the shared cache only while nothing they show has
changed: a write through the ledger (or any other), a new day or a permission change
renders them again, exactly as a page never cached would read."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Membership, MembershipRole
from orders.services import CancelRequest, LineRequest, order_cancel, order_place
from portal import page_cache
from tests.orders.conftest import make_fill_in, stocked_sku

pytestmark = pytest.mark.skipif(
    not getattr(cache, "is_shared", lambda: False)(),
    reason="pages are cached only in a cache every process shares (Redis)",
)
CSRF = re.compile(r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]*"')
AGO = re.compile(r'(class="muted small">)[^<]*(ago|now)(</span>)')  # the clock moves on


def _body(response) -> str:
    assert response.status_code == 200
    return AGO.sub(r"\1\3", CSRF.sub(r"\1", response.content.decode()))


def _fresh(client, url) -> str:
    """The page as a render that never saw the cache reads it (sessions stay in the db)."""
    cache.clear()
    return _body(client.get(url))


@pytest.fixture
def stocked(account, warehouse, buyer):
    make_fill_in(account)
    return stocked_sku(warehouse=warehouse, on_hand=40)


def _place(account, buyer, sku, quantity):
    return order_place(account=account, user=buyer, lines=[LineRequest(sku.code, quantity)])


def test_a_page_read_again_makes_no_query(buyer_client, stocked):
    url = reverse("portal:style_detail", args=[stocked.style.number])
    buyer_client.get(url)  # the first answer sets the CSRF cookie, so is not kept
    first = _body(buyer_client.get(url))
    with CaptureQueriesContext(connection) as queries:
        again = _body(buyer_client.get(url))
    assert len(queries) == 0
    assert again == first


def test_the_size_grid_shows_the_ats_the_ledger_left_after_an_order(
    buyer_client, account, buyer, stocked
):
    url = reverse("portal:style_detail", args=[stocked.style.number])
    before = _body(buyer_client.get(url))
    assert ">40<" in before
    # when the ledger allocates 6 of the 40 pairs
    _place(account, buyer, stocked, 6)
    # then the next read shows 34, as a render that never saw the cache does
    after = _body(buyer_client.get(url))
    assert ">34<" in after
    assert after == _fresh(buyer_client, url)


@pytest.mark.parametrize("page", ["portal:dashboard", "portal:backorders"])
def test_pages_show_a_cancellation_on_the_next_read(buyer_client, account, buyer, stocked, page):
    order = _place(account, buyer, stocked, 8).order
    url = reverse(page)
    before = _body(buyer_client.get(url))
    assert before == _body(buyer_client.get(url))
    # when the retailer cancels 2 of the pairs (the ledger's cancel verb)
    line = order.lines.get()
    order_cancel(order=order, user=buyer, lines=[CancelRequest(line.pk, 2)])
    after = _body(buyer_client.get(url))
    assert after == _fresh(buyer_client, url)
    if page == "portal:dashboard":
        assert after != before


def test_a_new_day_renders_the_page_again(buyer_client, stocked, monkeypatch):
    import datetime as dt

    url = reverse("portal:invoice_list")
    buyer_client.get(url)
    today = page_cache.timezone.localdate()
    monkeypatch.setattr(
        page_cache.timezone, "localdate", lambda *args: today + dt.timedelta(days=1)
    )
    with CaptureQueriesContext(connection) as queries:
        buyer_client.get(url)
    assert len(queries) > 0


def test_a_role_change_renders_the_page_again(buyer_client, buyer, account, stocked):
    url = reverse("portal:style_detail", args=[stocked.style.number])
    assert 'name="qty-' in _body(buyer_client.get(url))  # a buyer may order from the grid
    Membership.objects.filter(user=buyer, account=account).update(role=MembershipRole.VIEWER)
    Membership.objects.get(user=buyer, account=account).save()  # as the admin saves it
    assert 'name="qty-' not in _body(buyer_client.get(url))


def _registers_a_bump(sql) -> bool:
    """Whether the write would raise the data version at its commit (one bump a
    transaction: those already due are set aside first)."""

    def due():
        return [e for e in connection.run_on_commit if e[1] is page_cache.data_version_bump]

    connection.run_on_commit = [e for e in connection.run_on_commit if e not in due()]
    page_cache.writes_watch(lambda *args: None, sql, None, False, {"connection": connection})
    return bool(due())


def test_writes_raise_the_data_version_except_sessions_and_tokens(db):
    assert _registers_a_bump('UPDATE "inventory_stocklevel" SET "allocated" = 1')
    assert _registers_a_bump("WITH taken (id) AS (VALUES (1)) UPDATE inventory_inboundline AS t")
    assert _registers_a_bump('INSERT INTO "orders_payment" ("amount") VALUES (1)')
    assert _registers_a_bump('DELETE FROM "orders_backorderpeg" WHERE 1')
    assert not _registers_a_bump('UPDATE "django_session" SET "session_data" = 1')
    assert not _registers_a_bump('SELECT "id" FROM "inventory_stocklevel" FOR UPDATE')


@pytest.mark.django_db(transaction=True)
def test_a_committed_write_raises_the_data_version(warehouse):
    before = cache.get(page_cache._key("version"))
    stocked_sku(warehouse=warehouse, on_hand=5)
    after = cache.get(page_cache._key("version"))
    assert after is not None
    assert after != before


def test_the_order_page_is_never_cached_it_carries_a_key_for_each_view(
    buyer_client, account, buyer, stocked
):
    # its edit form holds a fresh idempotency key per view: a cached copy would make a
    # second edit a retry of the first
    order = _place(account, buyer, stocked, 8).order
    url = reverse("portal:order_detail", args=[order.number])
    buyer_client.get(url)
    with CaptureQueriesContext(connection) as queries:
        buyer_client.get(url)
    assert len(queries) > 0

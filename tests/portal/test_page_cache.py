"""Portal pages are served from the shared cache only while nothing they show has
changed: a write through the ledger (or any other), a new day or a permission change
renders them again, exactly as a page never cached would read."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backorders.services import eta_change, run_receive
from inventory.models import SKU, PriceList, Season, Style
from orders.models import Membership, MembershipRole, OrderEdit, PriceListAssignment
from orders.services import CancelRequest, LineRequest, order_cancel, order_place
from portal import page_cache
from tests.conftest import api_client_for
from tests.factories import StaffFactory
from tests.orders.conftest import inbound_for, make_fill_in, stocked_sku

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


def _registers_a_bump(sql, bump=page_cache.data_version_bump) -> bool:
    """Whether the write would raise the data version (or `bump`'s) at its commit (one
    bump a transaction: those already due are set aside first)."""

    def due():
        return [e for e in connection.run_on_commit if e[1] is bump]

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


# --- the order page: kept whole, its edit form's key filled in for each view -------------

EDIT_KEY = re.compile(r'name="idempotency_key" value="([^"]*)"')


def _edit_key(response) -> str:
    (key,) = EDIT_KEY.findall(response.content.decode())
    return key


def _order_body(response) -> str:
    return EDIT_KEY.sub('name="idempotency_key" value=""', _body(response))


@pytest.fixture
def backordered(account, buyer, warehouse):
    """An order of 10 pairs: 4 allocated, 6 waiting for a run due in 21 days."""
    make_fill_in(account)
    sku = stocked_sku(warehouse=warehouse, on_hand=4)
    inbound = inbound_for(sku=sku, warehouse=warehouse, quantity=20)
    order = _place(account, buyer, sku, 10).order
    assert order.lines.get().backordered == 6
    return order, inbound.run


def test_the_order_page_read_again_makes_no_query_and_each_view_has_its_own_edit_key(
    buyer_client, backordered
):
    order, _ = backordered
    url = reverse("portal:order_detail", args=[order.number])
    views = [buyer_client.get(url), buyer_client.get(url)]
    with CaptureQueriesContext(connection) as queries:
        views.append(buyer_client.get(url))
    assert len(queries) == 0
    assert _order_body(views[2]) == _order_body(views[1])
    keys = [_edit_key(view) for view in views]
    assert len(set(keys)) == 3
    assert all(re.fullmatch(r"[0-9a-f]{32}", key) for key in keys)


def test_the_order_page_rendered_again_reads_the_order_lines_pegs_and_runs_once(
    buyer_client, backordered, django_assert_max_num_queries
):
    order, _ = backordered
    url = reverse("portal:order_detail", args=[order.number])
    buyer_client.get(url)
    page_cache.data_version_bump()  # the page is rendered again; the frame is kept
    # order, lines, pegs with their runs, the runs' ETAs, the runs' records; the terms come
    # with the order and whether the user may order with the header's accounts
    with django_assert_max_num_queries(5):
        response = buyer_client.get(url)
    assert "Change this order" in response.content.decode()


def test_two_edits_from_two_views_are_two_edits_and_a_form_sent_twice_is_one(
    buyer_client, backordered
):
    order, _ = backordered
    line = order.lines.get()
    url = reverse("portal:order_detail", args=[order.number])
    buyer_client.get(url)  # sets the CSRF cookie
    first_view = buyer_client.get(url)
    with CaptureQueriesContext(connection) as queries:
        second_view = buyer_client.get(url)
    assert len(queries) == 0  # the second view is the cached page

    def reduce_one_pair(view):
        form = {f"reduce-{line.pk}": "1", "idempotency_key": _edit_key(view)}
        response = buyer_client.post(reverse("portal:order_edit", args=[order.number]), form)
        assert response.status_code == 302
        return buyer_client.get(url).content.decode()

    assert "changed; we have sent" in reduce_one_pair(first_view)
    assert "was already changed" in reduce_one_pair(first_view)  # the same form sent again
    assert "changed; we have sent" in reduce_one_pair(second_view)
    line.refresh_from_db()
    assert line.cancelled == 2
    assert OrderEdit.objects.filter(order=order).count() == 2


def test_a_refused_edit_answers_with_a_fresh_key_of_its_own(buyer_client, backordered):
    order, _ = backordered
    buyer_client.get(reverse("portal:order_detail", args=[order.number]))
    form = {"add-sku-0": "NOPE", "add-qty-0": "6", "idempotency_key": "k-1"}
    response = buyer_client.post(reverse("portal:order_edit", args=[order.number]), form)
    assert response.status_code == 400
    assert re.fullmatch(r"[0-9a-f]{32}", _edit_key(response))


def test_the_order_page_shows_an_eta_change_a_receipt_and_a_cancellation_on_the_next_read(
    buyer_client, buyer, backordered
):
    order, run = backordered
    line = order.lines.get()
    url = reverse("portal:order_detail", args=[order.number])
    planner = StaffFactory(is_superuser=True)
    buyer_client.get(url)
    pages = [_order_body(buyer_client.get(url))]
    assert pages[0] == _order_body(buyer_client.get(url))  # served from the cache
    # when the run's ETA moves, the run arrives, and the retailer cancels a pair
    changes = [
        lambda: eta_change(
            run=run,
            new_eta=timezone.localdate() + dt.timedelta(days=40),
            reason="Late",
            user=planner,
        ),
        lambda: run_receive(run=run, user=planner),
        lambda: order_cancel(order=order, user=buyer, lines=[CancelRequest(line.pk, 1)]),
    ]
    for change in changes:
        change()
        page = _order_body(buyer_client.get(url))
        # then each next read is what a render that never saw the cache reads, and moved
        assert page == _order_body_fresh(buyer_client, url)
        assert page != pages[-1]
        pages.append(page)
    line.refresh_from_db()
    assert (line.allocated, line.backordered, line.cancelled) == (9, 0, 1)
    assert f'<td class="num">{line.allocated}</td>' in pages[-1]


def _order_body_fresh(client, url) -> str:
    cache.clear()
    return _order_body(client.get(url))


# --- the catalogue API: each caller's page kept under the same versions --------------------

SKUS = "/api/v1/skus/"


def _ats(api, sku) -> int:
    (item,) = [item for item in api.get(SKUS).json()["results"] if item["sku"] == sku.code]
    return item["ats"]


def test_the_catalogue_api_read_again_asks_only_for_the_token(buyer, stocked):
    api = api_client_for(buyer)
    first = api.get(SKUS, {"page": 1}).json()
    with CaptureQueriesContext(connection) as queries:
        again = api.get(SKUS, {"page": 1}).json()
    assert len(queries) == 1  # the token (and its user); the page is the one kept
    assert again == first


def test_the_catalogue_api_shows_the_ats_of_an_order_and_a_receipt_at_once(
    account, buyer, warehouse, stocked
):
    api = api_client_for(buyer)
    assert _ats(api, stocked) == 40
    assert _ats(api, stocked) == 40  # kept
    # when the ledger allocates 6 pairs, then 20 pairs of a run arrive
    _place(account, buyer, stocked, 6)
    assert _ats(api, stocked) == 34
    run = inbound_for(sku=stocked, warehouse=warehouse, quantity=20).run
    run_receive(run=run, user=StaffFactory(is_superuser=True))
    assert _ats(api, stocked) == 54


def test_each_caller_sees_the_catalogue_at_their_own_prices(
    account, buyer, other_account, other_buyer, stocked
):
    # given the other account on a list 10 % off
    price_list = PriceList.objects.create(
        code="ten-off", name="Ten off", percent_off=Decimal("10.00"), starts_on=dt.date(2020, 1, 1)
    )
    PriceListAssignment.objects.create(account=other_account, price_list=price_list)

    def price(user) -> Decimal:
        (item,) = api_client_for(user).get(SKUS).json()["results"]
        return Decimal(item["price"])

    # when each reads the same page twice, then each sees their own prices
    base = price(buyer)
    assert price(other_buyer) == base * Decimal("0.9")
    assert (price(buyer), price(other_buyer)) == (base, base * Decimal("0.9"))


# --- the catalogue page's facet counts: kept under the versions of what they read -------

FACET = re.compile(
    r'name="(?P<facet>\w+)" value="(?P<value>[^"]+)"[^>]*><label[^>]*>[^<]*'
    r'<span class="count">(?P<count>\d+)</span>'
)


def _facets(response) -> dict[tuple[str, str], int]:
    return {(m["facet"], m["value"]): int(m["count"]) for m in FACET.finditer(_body(response))}


def _counted(queries) -> list[str]:
    """Which counts a request made: the facets over the catalogue, sizes in stock."""
    kinds = {"WITH m AS": "catalogue", 'SELECT "inventory_sku"."size"': "sizes"}
    return [kind for q in queries for start, kind in kinds.items() if q["sql"].startswith(start)]


def test_the_catalogue_counts_show_an_order_a_catalogue_change_and_a_price_on_the_next_read(
    buyer_client, account, buyer, stocked
):
    url = reverse("portal:catalogue")
    size = f"{stocked.size.normalize():f}"
    before = _facets(buyer_client.get(url))
    assert before[("size", size)] == 1
    assert before[("category", stocked.style.category)] == 1
    # when the ledger allocates every pair, the size has none in stock now
    _place(account, buyer, stocked, 40)
    after_order = _facets(buyer_client.get(url))
    assert ("size", size) not in after_order
    assert after_order == _facets(buyer_client.get(url)) == _facets_fresh(buyer_client, url)
    # when the style moves to another category
    stocked.style.category = "Clogs"
    stocked.style.save()
    moved = _facets(buyer_client.get(url))
    assert (moved.get(("category", "Clogs")), ("category", "Boots") in moved) == (1, False)
    # when the account's price list takes half off, the style is under 40 dollars
    cheap = f"{url}?price_max=40"
    assert ("category", "Clogs") not in _facets(buyer_client.get(cheap))
    PriceListAssignment.objects.create(
        account=account,
        price_list=PriceList.objects.create(
            code="half", name="Half", percent_off=Decimal("50"), starts_on=dt.date(2020, 1, 1)
        ),
    )
    assert _facets(buyer_client.get(cheap))[("category", "Clogs")] == 1


def _facets_fresh(client, url):
    cache.clear()
    return _facets(client.get(url))


@pytest.mark.django_db(transaction=True)
def test_an_order_counts_sizes_again_and_keeps_the_catalogue_counts_until_the_catalogue_moves(
    buyer_client, account, buyer, warehouse
):
    make_fill_in(account)
    sku = stocked_sku(warehouse=warehouse, on_hand=20)
    list_ = PriceList.objects.create(
        code="list", name="List", percent_off=Decimal("0"), starts_on=dt.date(2020, 1, 1)
    )
    PriceListAssignment.objects.create(account=account, price_list=list_)
    url, size = reverse("portal:catalogue") + "?price_max=40", f"{sku.size.normalize():f}"
    first = _facets(buyer_client.get(url))
    assert ("size", size) not in first  # 60 dollars, over the price filter
    with CaptureQueriesContext(connection) as queries:
        buyer_client.get(url + "&view=list")
    assert _counted(queries) == []  # both kept
    # when an order commits (stock moves): sizes are counted again, the rest is kept
    _place(account, buyer, sku, 6)
    with CaptureQueriesContext(connection) as queries:
        assert _facets(buyer_client.get(url)) == first
    assert _counted(queries) == ["sizes"]
    # when the price list commits half off: everything is counted again, at the new price
    PriceList.objects.filter(pk=list_.pk).update(percent_off=Decimal("50"))
    with CaptureQueriesContext(connection) as queries:
        halved = _facets(buyer_client.get(url))
    assert _counted(queries) == ["catalogue", "sizes"]
    assert (halved[("size", size)], halved[("category", sku.style.category)]) == (1, 1)


def test_catalogue_writes_raise_the_catalogue_version_and_stock_writes_do_not(db):
    def registers(sql) -> bool:
        return _registers_a_bump(sql, page_cache.catalogue_version_bump)

    assert registers('UPDATE "inventory_sku" SET "active" = false')
    assert registers('INSERT INTO "inventory_style" ("number") VALUES (1)')
    assert registers('DELETE FROM "inventory_pricelistitem" WHERE 1')
    assert registers('UPDATE "inventory_pricelist" SET "percent_off" = 5')
    assert registers('INSERT INTO "inventory_season" ("code") VALUES (1)')
    assert registers("WITH x AS (INSERT INTO orders_order VALUES (1)) UPDATE inventory_sku SET")
    assert registers('TRUNCATE "orders_order", "inventory_sku"')
    assert not registers('UPDATE "inventory_stocklevel" SET "allocated" = 1')
    assert not registers('INSERT INTO "orders_order" ("number") VALUES (1)')
    assert not registers('SELECT "id" FROM "inventory_sku" FOR UPDATE')
    assert set(page_cache.CATALOGUE_TABLES) == {
        model._meta.db_table for model in (Style, SKU, Season, PriceList)
    }


# --- cases, credit memos, an invoice, and their API lists: kept, and shown anew ----------


@pytest.fixture
def claimed(account, warehouse, buyer):
    """A shipped order (and its invoice) with a claim on one of its SKUs."""
    from tests.claims.conftest import claim_with_photo_create, shipped_create

    shipped = shipped_create(account=account, warehouse=warehouse)
    claim = claim_with_photo_create(
        shipment=shipped.shipment, user=buyer, sku_code=shipped.sku.code
    )
    return shipped, claim


def _kept(client, url) -> str:
    """The page, read again from the cache without a query."""
    client.get(url)  # the first answer sets the CSRF cookie, so is not kept
    first = _body(client.get(url))
    with CaptureQueriesContext(connection) as queries:
        again = _body(client.get(url))
    assert len(queries) == 0, url
    assert again == first
    return first


def test_a_claims_case_and_the_cases_list_show_a_new_message_on_the_next_read(
    buyer_client, buyer, claimed
):
    from orders.services.claims import case_message_post

    _, claim = claimed
    urls = [reverse("portal:case_detail", args=[claim.case.number]), reverse("portal:case_list")]
    for url in urls:
        _kept(buyer_client, url)
    # when the store writes on the case
    case_message_post(case=claim.case, user=buyer, body="The second carton is torn too.")
    # then both pages read as a render that never saw the cache does
    after = [_body(buyer_client.get(url)) for url in urls]
    assert "The second carton is torn too." in after[0]
    assert after == [_fresh(buyer_client, url) for url in urls]


def test_credit_memos_and_the_invoice_show_a_new_credit_on_the_next_read(
    buyer_client, account, claimed
):
    from orders.models import Invoice
    from orders.services.fulfilment import credit_memo_issue

    invoice = Invoice.objects.get(account=account)
    urls = [
        reverse("portal:credit_memo_list"),
        reverse("portal:invoice_detail", args=[invoice.number]),
    ]
    before = [_kept(buyer_client, url) for url in urls]
    # when the brand credits part of the invoice
    memo = credit_memo_issue(invoice=invoice, amount="12.34", reason="damaged", user=None)
    after = [_body(buyer_client.get(url)) for url in urls]
    for page, was in zip(after, before, strict=True):
        assert memo.number in page
        assert memo.number not in was
    assert "12.34" in after[1]
    assert after == [_fresh(buyer_client, url) for url in urls]


def _api_kept(api, url) -> dict:
    """The API page, read again with one query (the token): the answer kept."""
    first = api.get(url).json()
    with CaptureQueriesContext(connection) as queries:
        again = api.get(url).json()
    assert len(queries) == 1, url
    assert again == first
    return first


def _api_fresh(api, url) -> dict:
    cache.clear()
    return api.get(url).json()


def test_the_claims_credit_memos_and_backorders_api_show_changes_on_the_next_read(
    account, buyer, warehouse, claimed, backordered
):
    from orders.models import Invoice
    from orders.services.fulfilment import credit_memo_issue
    from tests.claims.conftest import claim_with_photo_create

    shipped, _ = claimed
    order, _ = backordered
    api = api_client_for(buyer)
    lists = ["/api/v1/claims/", "/api/v1/credit-memos/", "/api/v1/backorders/"]
    before = [_api_kept(api, url) for url in lists]
    # when a second claim is filed, the invoice credited and 2 waiting pairs cancelled
    claim_with_photo_create(shipment=shipped.shipment, user=buyer, sku_code=shipped.other_sku.code)
    invoice = Invoice.objects.get(account=account)
    credit_memo_issue(invoice=invoice, amount="5.00", reason="damaged", user=None)
    order_cancel(order=order, user=buyer, lines=[CancelRequest(order.lines.get().pk, 2)])
    after = [api.get(url).json() for url in lists]
    assert [page["count"] for page in after] == [2, 1, 1]
    assert [page["count"] for page in before] == [1, 0, 1]
    assert after[2] != before[2]
    assert after == [_api_fresh(api, url) for url in lists]

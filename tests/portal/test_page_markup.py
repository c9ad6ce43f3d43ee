"""The rows the hot pages render in Python (size grid cells, order lines) and the
navigation rendered once per combination: the same markup the templates produced, values
escaped, per user and page."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test.utils import override_script_prefix
from django.urls import reverse
from django.utils import timezone

from inventory.models import Width
from orders.models import BackorderPeg, MembershipRole
from orders.selectors import line_promises
from orders.services.cart import cart_lines_set
from tests.factories import (
    InboundLineFactory,
    InboundRunFactory,
    MembershipFactory,
    OrderFactory,
    OrderLineFactory,
    RepFactory,
    SKUFactory,
    StockLevelFactory,
    StyleFactory,
)
from tests.portal.test_dashboard import backordered_line, shipment_with_invoice

pytestmark = pytest.mark.django_db


def tight(html):
    """Markup without the whitespace between tags, which the browser ignores here."""
    return re.sub(r">\s+<", "><", html)


@pytest.fixture
def grid_style(warehouse):
    """Two widths by three sizes, one cell missing (wide 8), one SKU sold out with a run
    coming, and a colour that needs escaping."""
    style = StyleFactory(number="GRD1", name="Grid Walker")
    skus = {}
    for width in (Width.MEDIUM, Width.WIDE):
        for size in ("7.0", "7.5", "8.0"):
            if (width, size) == (Width.WIDE, "8.0"):
                continue
            sku = SKUFactory(style=style, color='Black & "Tan"', width=width, size=Decimal(size))
            StockLevelFactory(sku=sku, warehouse=warehouse, on_hand=0 if size == "7.0" else 20)
            skus[(width, size)] = sku
    run = InboundRunFactory(warehouse=warehouse, eta=dt.date(2031, 3, 4))
    InboundLineFactory(run=run, sku=skus[(Width.MEDIUM, "7.0")], quantity=30)
    return style, skus


def test_grid_cells_for_a_buyer(buyer_client, buyer, account, grid_style):
    # given: six pairs of one SKU in the cart
    style, skus = grid_style
    in_cart = skus[(Width.MEDIUM, "7.5")]
    cart_lines_set(user=buyer, account=account, quantities={in_cart.pk: "6"})
    sold_out = skus[(Width.MEDIUM, "7.0")]

    # when
    html = tight(buyer_client.get(reverse("portal:style_detail", args=[style.number])).text)

    # then: each cell as the grid template wrote it
    assert (
        f'<td><input id="qty-{sold_out.pk}" aria-label="Black &amp; &quot;Tan&quot;, width M, '
        f'size 7: pairs" name="qty-{sold_out.pk}" inputmode="numeric" pattern="[0-9]*" '
        f'size="3" value="" aria-describedby="ats-{sold_out.pk}"><span id="ats-{sold_out.pk}">'
        '<span class="ats zero">0<span class="visually-hidden"> available now</span></span>'
        '<span class="eta"><span class="visually-hidden">more arriving </span>Mar 4</span>'
        '</span><button type="submit" class="link" formaction="/alerts/new/" name="alert_sku"'
        f' value="{sold_out.code}" hx-post="/alerts/new/" hx-target="this" hx-swap="outerHTML"'
        ' aria-label="Black &amp; &quot;Tan&quot;, width M, size 7: tell me when it is back">'
        "Tell me</button></td>"
    ) in html
    assert (
        f'size="3" value="6" aria-describedby="ats-{in_cart.pk}"><span id="ats-{in_cart.pk}">'
        '<span class="ats">20<span class="visually-hidden"> available now</span></span></span>'
        "</td>"
    ) in html
    assert html.count('<td><span class="muted">–</span></td>') == 1
    assert html.count('name="qty-') == 5


def test_grid_cells_for_a_viewer_have_no_inputs(client, account, grid_style):
    # given
    viewer = MembershipFactory(account=account, role=MembershipRole.VIEWER).user
    client.force_login(viewer)
    style, skus = grid_style
    sku = skus[(Width.WIDE, "7.5")]

    # when
    html = tight(client.get(reverse("portal:style_detail", args=[style.number])).text)

    # then
    assert "<input" not in html.split('class="size-grid"')[1]
    assert (
        f'<td><span id="ats-{sku.pk}"><span class="ats">20<span class="visually-hidden"> '
        "available now</span></span></span></td>"
    ) in html


@pytest.fixture
def order_with_every_kind_of_line(account):
    order = OrderFactory(account=account, po_number="PO-ROWS")
    allocated = OrderLineFactory(order=order, quantity=12, unit_price=Decimal("1234.5"))
    cancelled = OrderLineFactory(
        order=order,
        quantity=4,
        allocated=0,
        cancelled=4,
        cancel_reason="Past your <b>window</b>",
        promised_date=dt.date(2031, 1, 9),
    )
    run = InboundRunFactory(reference="RUN-<7>", eta=timezone.localdate() + dt.timedelta(days=9))
    inbound = InboundLineFactory(run=run, quantity=50, promised=6)
    backordered = OrderLineFactory(
        order=order, sku=inbound.sku, quantity=6, allocated=0, backordered=6
    )
    BackorderPeg.objects.create(line=backordered, inbound_line=inbound, quantity=6)
    return order, allocated, cancelled, backordered


def test_order_lines_for_a_buyer(
    buyer_client, order_with_every_kind_of_line, django_assert_max_num_queries
):
    # given
    order, allocated, cancelled, backordered = order_with_every_kind_of_line
    promise = line_promises(lines=[backordered])[backordered.pk]
    expected = promise.date

    # when
    with django_assert_max_num_queries(11):  # 11: the runs' factory records (calibrated dates)
        response = buyer_client.get(reverse("portal:order_detail", args=[order.number]))
    html = tight(response.text)

    # then
    sku = allocated.sku
    assert (
        f"<tr><td>{sku.code}</td><td>{sku.style.name} · Black · {sku.size_label} M</td>"
        '<td class="num">12</td><td class="num">12</td><td class="num">0</td>'
        '<td class="num">0</td><td class="num">0</td><td>—</td><td>—</td>'
        '<td class="num">$1,234.50</td>'
        f'<td class="num"><input name="cancel-{allocated.pk}" inputmode="numeric" size="4" '
        f'aria-label="Pairs of {sku.code} to cancel (up to 12)" placeholder="0–12"></td></tr>'
    ) in html
    assert (
        '<br><span class="muted">Past your &lt;b&gt;window&lt;/b&gt;</span></td>'
        '<td class="num">4</td><td class="num">0</td><td class="num">0</td>'
        '<td class="num">0</td><td class="num">4</td><td>Jan 9, 2031</td><td>—</td>'
    ) in html
    assert (
        f'<td class="num">6</td><td class="num">0</td><td class="num">0</td><td>—</td>'
        f"<td>{expected:%b} {expected.day}, {expected.year}"
        f'<br><span class="muted small">{promise.basis}</span><br><span class="muted">run '
        "RUN-&lt;7&gt;</span></td>"
    ) in html
    assert html.count('<td class="num"></td></tr>') == 1  # the cancelled line: nothing open


def test_order_lines_without_open_pairs_have_no_cancel_column(buyer_client, account):
    # given: everything shipped
    order = OrderFactory(account=account)
    OrderLineFactory(order=order, quantity=5, allocated=0, shipped=5)

    # when
    html = buyer_client.get(reverse("portal:order_detail", args=[order.number])).text

    # then
    assert "Cancel pairs" not in html
    assert 'name="cancel-' not in html


def test_order_lines_for_a_viewer_have_no_cancel_column(client, order_with_every_kind_of_line):
    # given
    order = order_with_every_kind_of_line[0]
    viewer = MembershipFactory(account=order.account, role=MembershipRole.VIEWER).user
    client.force_login(viewer)

    # when
    html = client.get(reverse("portal:order_detail", args=[order.number])).text

    # then
    assert "PO-ROWS" in html
    assert 'name="cancel-' not in html
    assert "Cancel everything not yet shipped" not in html


def nav_of(html):
    return html.split('<nav aria-label="Main">')[1].split("</nav>")[0]


def test_navigation_marks_the_page_and_follows_the_user(client, account, buyer):
    # given: a rep with no account of their own, then a buyer, on the same pages
    rep = RepFactory()
    client.force_login(rep)
    rep_nav = nav_of(client.get(reverse("portal:policies")).text)
    client.force_login(buyer)
    policies_nav = nav_of(client.get(reverse("portal:policies")).text)
    calendar_nav = nav_of(client.get(reverse("portal:calendar")).text)

    # then: the rep sees Reps and no Settings; the buyer the reverse; the page is marked
    assert f'href="{reverse("portal:rep_accounts")}"' in rep_nav
    assert f'href="{reverse("portal:account_settings")}"' not in rep_nav
    assert f'href="{reverse("portal:rep_accounts")}"' not in policies_nav
    assert f'href="{reverse("portal:account_settings")}"' in policies_nav
    assert f'<a href="{reverse("portal:policies")}" aria-current="page">' in policies_nav
    assert policies_nav.count('aria-current="page"') == 1
    assert f'<a href="{reverse("portal:calendar")}" aria-current="page">' in calendar_nav
    assert calendar_nav.count('aria-current="page"') == 1


@pytest.fixture
def dashboard_rows_account(account, buyer, warehouse):
    """One row of each dashboard table, and backorders both moved and not scheduled."""
    order = OrderFactory(account=account, po_number="PO-<DASH>")
    shipped = OrderLineFactory(order=order, quantity=12, allocated=10, shipped=2)
    shipment_with_invoice(order=order, line=shipped, quantity=2, number="R1", due_in=-3)
    core = SKUFactory(core=True, code="CORE-&-8", color="Tan")
    StockLevelFactory(sku=core, warehouse=warehouse, on_hand=40)
    OrderLineFactory(order=OrderFactory(account=account), sku=core, quantity=9)
    moved = backordered_line(account=account, run_eta_days=30)
    moved.communicated_date = timezone.localdate()
    moved.save(update_fields=["communicated_date"])
    unscheduled = OrderLineFactory(
        order=OrderFactory(account=account), quantity=3, allocated=0, backordered=3
    )
    return order, core, moved, unscheduled


def test_dashboard_rows_for_a_buyer(buyer_client, dashboard_rows_account):
    # given
    order, core, moved, unscheduled = dashboard_rows_account
    promise = line_promises(lines=[moved])[moved.pk]
    expected = promise.date

    # when
    html = tight(buyer_client.get(reverse("portal:dashboard")).text)

    # then: each table's rows as the dashboard template wrote them
    placed = timezone.localtime(order.placed_at)
    assert (
        f'<tr><td><a href="/orders/{order.number}/">{order.number}</a></td>'
        f"<td>PO-&lt;DASH&gt;</td><td>{placed:%b} {placed.day}</td>"
        '<td class="num">10</td><td><span class="badge">Open</span></td></tr>'
    ) in html
    assert (
        f'<td>{expected:%b} {expected.day} <span class="badge warn">moved</span>'
        f'<br><span class="muted small">{promise.basis}</span></td></tr>'
    ) in html
    assert (
        f'<tr><td><a href="/orders/{unscheduled.order.number}/">{unscheduled.order.number}</a>'
        f"</td><td>{unscheduled.sku.style.name} "
        f'<span class="muted">Black {unscheduled.sku.size_label}M</span></td>'
        '<td class="num">3</td><td><span class="muted">not scheduled</span></td></tr>'
    ) in html
    assert (
        '<tr><td>SH-R1<br><span class="muted small">2 pairs</span></td>'
        f'<td><a href="/orders/{order.number}/">{order.number}</a></td>'
    ) in html
    due = timezone.localdate() - dt.timedelta(days=3)
    assert (
        f'<tr><td>INV-R1</td><td>{due:%b} {due.day}, {due.year} <span class="badge bad">'
        'overdue</span></td><td class="num">$100.00</td></tr>'
    ) in html
    style_url = reverse("portal:style_detail", args=[core.style.number])
    assert (
        f'<tr><td><a href="{style_url}">{core.style.name}</a><span class="muted">Tan '
        f'{core.size_label}M</span><br><span class="muted small">CORE-&amp;-8</span></td>'
        f'<td class="num">${core.price}</td><td class="num">40</td><td class="num">9</td>'
        '<td><form method="post" '
        f'action="{reverse("portal:core_reorder")}" class="inline"><input type="hidden" '
        'name="csrfmiddlewaretoken" value="'
    ) in html
    assert (
        '<input type="hidden" name="sku" value="CORE-&amp;-8"><input type="hidden" '
        'name="quantity" value="9"><button type="submit" aria-label="Add 9 pairs of '
        'CORE-&amp;-8 to the cart">Add 9</button></form></td></tr>'
    ) in html


def test_dashboard_core_list_for_a_viewer_links_to_the_style_without_an_order_action(
    client, account, dashboard_rows_account
):
    # given
    core = dashboard_rows_account[1]
    viewer = MembershipFactory(account=account, role=MembershipRole.VIEWER).user
    client.force_login(viewer)

    # when
    html = tight(client.get(reverse("portal:dashboard")).text)

    # then
    style_url = reverse("portal:style_detail", args=[core.style.number])
    assert f'<td><a href="{style_url}">{core.style.name}</a>' in html
    assert '<td class="num">40</td><td class="num">9</td><td></td></tr>' in html
    assert "Add 9" not in html


def test_navigation_follows_the_url_prefix(buyer_client):
    # given: the portal served under /shop, then at the root
    path = reverse("portal:policies")
    with override_script_prefix("/shop/"):
        under_shop = nav_of(buyer_client.get(path).text)
    at_root = nav_of(buyer_client.get(path).text)

    # then
    assert '<a href="/shop/policies/" aria-current="page">' in under_shop
    assert '<a href="/policies/" aria-current="page">' in at_root
    assert "/shop/" not in at_root

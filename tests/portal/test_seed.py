"""seed_demo: realistic, deterministic, safe to run twice, and every invariant holds."""

import hashlib
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.models import F

from inventory.models import SKU, InboundLine, StockLevel, Style
from orders.models import Account, CommercialTerms, Order, OrderLine
from portal.demo import DEMO_PASSWORD, _plan_styles, upc_check_digit
from portal.invariants import CHECKS

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", "--scale", "1", "--no-progress", stdout=out)
    return out.getvalue()


def _snapshot() -> tuple[dict, str]:
    """Row counts of every table the seed writes, and a checksum of their key fields."""
    tables = [
        "portal_user",
        "orders_account",
        "orders_shipto",
        "orders_membership",
        "orders_commercialterms",
        "inventory_style",
        "inventory_sku",
        "inventory_warehouse",
        "inventory_stocklevel",
        "inventory_inboundrun",
        "inventory_inboundline",
        "inventory_etachange",
        "orders_order",
        "orders_orderline",
        "orders_allocation",
        "orders_backorderpeg",
        "orders_shipment",
        "orders_invoice",
        "orders_invoiceline",
        "orders_payment",
        "orders_documentsequence",
        "inventory_style_alternatives",
    ]
    with connection.cursor() as cursor:
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - fixed names
            counts[table] = cursor.fetchone()[0]
    digest = hashlib.sha256()
    for rows in (
        get_user_model().objects.order_by("email").values_list("email", "password", "is_active"),
        SKU.objects.order_by("code").values_list("code", "upc", "price", "msrp", "active"),
        StockLevel.objects.order_by("sku__code", "warehouse__code").values_list(
            "sku__code", "warehouse__code", "on_hand", "allocated", "holdback"
        ),
        InboundLine.objects.order_by("run__reference", "sku__code").values_list(
            "run__reference", "run__eta", "run__status", "sku__code", "quantity", "promised"
        ),
        Order.objects.order_by("number").values_list("number", "status", "total", "placed_at"),
        OrderLine.objects.order_by("order__number", "sku__code").values_list(
            "order__number",
            "sku__code",
            "quantity",
            "allocated",
            "backordered",
            "shipped",
            "cancelled",
            "promised_date",
            "window_end",
        ),
    ):
        for row in rows:
            digest.update(repr(row).encode())
    return counts, digest.hexdigest()


def _scalar(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def test_style_plan_is_deterministic():
    assert _plan_styles(2) == _plan_styles(2)


def _check_catalogue_is_realistic(seeded):
    styles = Style.objects.all()
    assert styles.count() >= 40
    assert set(styles.values_list("category", flat=True)) == {
        "Sneakers",
        "Sandals",
        "Clogs",
        "Boots",
        "Loafers",
        "Flats",
        "Slippers",
    }
    # every style is in one of the line's seasons
    assert set(styles.values_list("season__code", flat=True)) == {"FW25", "SS26", "FW26"}
    kinds = {
        k: styles.filter(replenishment=k).count() for k in ("committed", "seasonal", "discontinued")
    }
    assert kinds["committed"] > kinds["seasonal"] > kinds["discontinued"] > 0
    assert all(28 <= d <= 84 for d in styles.values_list("lead_time_days", flat=True))
    assert styles.filter(alternatives__isnull=False).exists()
    assert 2500 <= SKU.objects.count() <= 3600
    assert set(SKU.objects.values_list("width", flat=True)) == {1, 2, 3, 4}
    sizes = set(SKU.objects.values_list("size", flat=True))
    assert {5, 5.5, 12, 13} <= {float(s) for s in sizes}
    for upc in SKU.objects.values_list("upc", flat=True):
        assert len(upc) == 12
        assert upc.isdigit()
        assert int(upc[-1]) == upc_check_digit(upc[:11])
    assert not SKU.objects.filter(price__gte=F("msrp")).exists()
    assert StockLevel.objects.filter(on_hand=0).exists()
    assert StockLevel.objects.filter(holdback__gt=0).exists()
    assert StockLevel.objects.filter(warehouse__code="MAIN").count() == SKU.objects.count()


def _check_people_and_terms(seeded):
    User = get_user_model()
    assert CommercialTerms.objects.current().version == 1
    assert Account.objects.count() == 25
    assert not Account.objects.filter(ship_tos__isnull=True).exists()
    assert not Account.objects.filter(rep__isnull=True).exists()
    assert User.objects.filter(is_sales_rep=True).count() == 3
    assert User.objects.get(email="admin@trailwise.example").is_superuser
    for email, group in [
        ("agent@trailwise.example", "Customer service agents"),
        ("lead@trailwise.example", "Customer service leads"),
        ("planner@trailwise.example", "Planners"),
        ("integration@trailwise.example", "Integrations"),
    ]:
        assert User.objects.get(email=email).groups.filter(name=group).exists()
    buyer = User.objects.get(email="buyer@alpine-soles.example")
    assert buyer.check_password(DEMO_PASSWORD)
    assert buyer.memberships.filter(role="buyer").count() == 2
    viewer = User.objects.get(email="viewer@alpine-soles.example")
    assert list(viewer.memberships.values_list("role", flat=True)) == ["viewer"]


def _check_logins_are_printed(seeded):
    assert DEMO_PASSWORD in seeded
    for email in (
        "buyer@alpine-soles.example",
        "viewer@alpine-soles.example",
        "rep1@trailwise.example",
        "agent@trailwise.example",
        "lead@trailwise.example",
        "planner@trailwise.example",
        "admin@trailwise.example",
    ):
        assert email in seeded


def _check_order_history_shape(seeded):
    assert Order.objects.filter(status="shipped").count() > 300
    assert Order.objects.filter(status__in=["open", "partially_shipped"]).count() > 100
    assert OrderLine.objects.count() > 5000
    assert OrderLine.objects.filter(backordered__gt=0).count() > 500
    assert OrderLine.objects.filter(allocated__gt=0).count() > 100
    assert all(
        re.fullmatch(r"SO-1\d{5}", n) for n in Order.objects.values_list("number", flat=True)
    )
    assert not Order.objects.filter(terms__isnull=True).exists()
    assert _scalar("SELECT COUNT(*) FROM orders_order WHERE ship_to_id IS NULL") == 0
    # every shipped order has its shipment and invoice
    assert (
        _scalar(
            "SELECT COUNT(*) FROM orders_order o WHERE o.status = 'shipped' AND NOT EXISTS "
            "(SELECT 1 FROM orders_invoice i WHERE i.order_id = o.id)"
        )
        == 0
    )


def _check_invariant_stock_allocated_within_on_hand_and_equal_to_allocations(seeded):
    assert (
        _scalar(
            "SELECT COUNT(*) FROM inventory_stocklevel WHERE allocated < 0 OR allocated > on_hand"
        )
        == 0
    )
    assert (
        _scalar(
            """SELECT COUNT(*) FROM inventory_stocklevel s WHERE s.allocated <>
           (SELECT COALESCE(SUM(a.quantity), 0) FROM orders_allocation a
            WHERE a.stock_level_id = s.id)"""
        )
        == 0
    )
    assert _scalar("SELECT COALESCE(SUM(allocated), 0) FROM inventory_stocklevel") > 0


def _check_invariant_line_quantity_split(seeded):
    assert (
        _scalar(
            """SELECT COUNT(*) FROM orders_orderline WHERE quantity <> allocated + backordered
           + shipped + cancelled OR allocated < 0 OR backordered < 0 OR shipped < 0
           OR cancelled < 0 OR quantity <= 0"""
        )
        == 0
    )
    assert (
        _scalar(
            """SELECT COUNT(*) FROM orders_orderline l WHERE l.allocated <>
           (SELECT COALESCE(SUM(a.quantity), 0) FROM orders_allocation a WHERE a.line_id = l.id)"""
        )
        == 0
    )
    assert (
        _scalar(
            """SELECT COUNT(*) FROM orders_orderline l WHERE l.backordered <>
           (SELECT COALESCE(SUM(p.quantity), 0) FROM orders_backorderpeg p
            WHERE p.line_id = l.id)"""
        )
        == 0
    )
    # shipped quantities are the sum of the shipment lines
    assert (
        _scalar(
            """SELECT COUNT(*) FROM orders_orderline l WHERE l.shipped <>
           (SELECT COALESCE(SUM(s.quantity), 0) FROM orders_shipmentline s
            WHERE s.order_line_id = l.id)"""
        )
        == 0
    )


def _check_invariant_inbound_promised_is_sum_of_pegs(seeded):
    assert (
        _scalar(
            """SELECT COUNT(*) FROM inventory_inboundline il WHERE il.promised <>
           (SELECT COALESCE(SUM(p.quantity), 0) FROM orders_backorderpeg p
            WHERE p.inbound_line_id = il.id) OR il.promised > il.quantity - il.received"""
        )
        == 0
    )
    assert _scalar("SELECT SUM(promised) FROM inventory_inboundline") > 0


def _check_invariant_fair_fill(seeded):
    """No pair free above the holdback while a backorder of its SKU waits there, and no
    younger order holding pairs there meanwhile (portal.invariants' fair-fill checks)."""
    for check in (
        "ats_above_holdback_while_backorder_waits",
        "younger_order_filled_while_older_waits",
    ):
        assert _scalar(CHECKS[check]) == 0, check


def _check_invariant_backorders_only_eligible_and_within_window(seeded):
    # only committed styles
    assert (
        _scalar(
            """SELECT COUNT(*) FROM orders_orderline l JOIN inventory_sku k ON k.id = l.sku_id
           JOIN inventory_style s ON s.id = k.style_id
           WHERE l.backordered > 0 AND s.replenishment <> 'committed'"""
        )
        == 0
    )
    # window set, promise inside it, pegs on open runs arriving inside it
    assert (
        _scalar(
            """SELECT COUNT(*) FROM orders_orderline WHERE backordered > 0 AND (window_end IS NULL
           OR promised_date IS NULL OR promised_date > window_end)"""
        )
        == 0
    )
    assert (
        _scalar(
            """SELECT COUNT(*) FROM orders_backorderpeg p
           JOIN orders_orderline l ON l.id = p.line_id
           JOIN inventory_inboundline il ON il.id = p.inbound_line_id
           JOIN inventory_inboundrun r ON r.id = il.run_id
           WHERE r.status NOT IN ('planned', 'confirmed', 'in_transit') OR r.eta > l.window_end
           OR il.sku_id <> l.sku_id"""
        )
        == 0
    )
    # accounts that take no backorders have none
    assert (
        _scalar(
            """SELECT COUNT(*) FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id
           JOIN orders_account a ON a.id = o.account_id
           WHERE l.backordered > 0 AND NOT a.accepts_backorders"""
        )
        == 0
    )
    # inbound lines are on committed styles only
    assert (
        _scalar(
            """SELECT COUNT(*) FROM inventory_inboundline il
           JOIN inventory_sku k ON k.id = il.sku_id
           JOIN inventory_style s ON s.id = k.style_id WHERE s.replenishment <> 'committed'"""
        )
        == 0
    )


def test_seed_builds_a_realistic_data_set():
    output = _seed()

    _check_catalogue_is_realistic(output)
    _check_people_and_terms(output)
    _check_logins_are_printed(output)
    _check_order_history_shape(output)


def test_second_run_changes_nothing_and_the_invariants_hold():
    # given
    _seed()
    before = _snapshot()

    # when
    output = _seed()

    # then
    assert "nothing changed" in output
    assert _snapshot() == before
    _check_invariant_stock_allocated_within_on_hand_and_equal_to_allocations(output)
    _check_invariant_line_quantity_split(output)
    _check_invariant_inbound_promised_is_sum_of_pegs(output)
    _check_invariant_backorders_only_eligible_and_within_window(output)
    _check_invariant_fair_fill(output)

"""SQL audit of the invariants in DESIGN.md, over every row. Used by the
`audit_invariants` command, the load test and the benchmark; each check counts
violating rows, so zero everywhere means every invariant holds."""

from django.db import connection

CHECKS = {
    # 1. 0 <= allocated <= on_hand, and the counter equals the demand held against it.
    "stock_allocated_outside_0_and_on_hand": """
        SELECT count(*) FROM inventory_stocklevel
        WHERE allocated < 0 OR allocated > on_hand OR on_hand < 0 OR holdback < 0""",
    "stock_allocated_differs_from_allocations": """
        SELECT count(*) FROM inventory_stocklevel s
        LEFT JOIN (SELECT stock_level_id, sum(quantity) AS q FROM orders_allocation GROUP BY 1) a
          ON a.stock_level_id = s.id
        WHERE s.allocated <> coalesce(a.q, 0)""",
    # 2. ordered = allocated + backordered + shipped + cancelled, all >= 0, and each part
    #    matches what backs it.
    "line_split_broken": """
        SELECT count(*) FROM orders_orderline
        WHERE quantity <> allocated + backordered + shipped + cancelled
           OR allocated < 0 OR backordered < 0 OR shipped < 0 OR cancelled < 0""",
    "line_allocated_differs_from_allocations": """
        SELECT count(*) FROM orders_orderline l
        LEFT JOIN (SELECT line_id, sum(quantity) AS q FROM orders_allocation GROUP BY 1) a
          ON a.line_id = l.id
        WHERE l.allocated <> coalesce(a.q, 0)""",
    "line_backordered_differs_from_pegs": """
        SELECT count(*) FROM orders_orderline l
        LEFT JOIN (SELECT line_id, sum(quantity) AS q FROM orders_backorderpeg GROUP BY 1) p
          ON p.line_id = l.id
        WHERE l.backordered <> coalesce(p.q, 0)""",
    "inbound_promised_differs_from_pegs": """
        SELECT count(*) FROM inventory_inboundline i
        LEFT JOIN (SELECT inbound_line_id, sum(quantity) AS q FROM orders_backorderpeg GROUP BY 1) p
          ON p.inbound_line_id = i.id
        WHERE i.promised <> coalesce(p.q, 0) OR i.promised > i.quantity - i.received""",
    # 3. One order per idempotency key per account.
    "idempotency_key_used_twice": """
        SELECT count(*) FROM (
            SELECT account_id, idempotency_key FROM orders_order
            WHERE idempotency_key IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1) d""",
    # 4. Backorders only on committed styles, pegged to open runs, with a window.
    "backorder_on_ineligible_sku": """
        SELECT count(*) FROM orders_backorderpeg p
        JOIN orders_orderline l ON l.id = p.line_id
        JOIN inventory_sku k ON k.id = l.sku_id
        JOIN inventory_style s ON s.id = k.style_id
        JOIN inventory_inboundline il ON il.id = p.inbound_line_id
        JOIN inventory_inboundrun r ON r.id = il.run_id
        WHERE s.replenishment <> 'committed'
           OR r.status NOT IN ('planned', 'confirmed', 'in_transit')""",
    "backorder_without_window": """
        SELECT count(*) FROM orders_orderline WHERE backordered > 0 AND window_end IS NULL""",
    # 9. Fair fill: while a backorder of a SKU waits in a warehouse (pegged to a run
    #    arriving there), no pairs of it are free above the holdback there, and no
    #    younger order holds pairs of it there.
    "ats_above_holdback_while_backorder_waits": """
        SELECT count(*) FROM inventory_stocklevel s
        WHERE s.on_hand - s.allocated - s.holdback > 0 AND EXISTS (
            SELECT 1 FROM orders_backorderpeg p
            JOIN orders_orderline l ON l.id = p.line_id
            JOIN inventory_inboundline il ON il.id = p.inbound_line_id
            JOIN inventory_inboundrun r ON r.id = il.run_id
            WHERE l.sku_id = s.sku_id AND r.warehouse_id = s.warehouse_id)""",
    "younger_order_filled_while_older_waits": """
        SELECT count(*) FROM orders_orderline waiting
        JOIN orders_order older ON older.id = waiting.order_id
        WHERE waiting.backordered > 0 AND EXISTS (
            SELECT 1 FROM orders_backorderpeg p
            JOIN inventory_inboundline il ON il.id = p.inbound_line_id
            JOIN inventory_inboundrun r ON r.id = il.run_id
            JOIN inventory_stocklevel s
              ON s.sku_id = waiting.sku_id AND s.warehouse_id = r.warehouse_id
            JOIN orders_allocation a ON a.stock_level_id = s.id
            JOIN orders_orderline filled ON filled.id = a.line_id
            JOIN orders_order younger ON younger.id = filled.order_id
            WHERE p.line_id = waiting.id
              AND (COALESCE(filled.queued_at, younger.placed_at)
                     > COALESCE(waiting.queued_at, older.placed_at)
                   OR (COALESCE(filled.queued_at, younger.placed_at)
                       = COALESCE(waiting.queued_at, older.placed_at)
                       AND younger.id > older.id)))""",
    # 10. An order's total is what was invoiced plus what is still open (its allocated and
    #     backordered pairs), plus the freight quoted at placement until an invoice bills it.
    "order_total_differs_from_invoiced_plus_open": """
        SELECT count(*) FROM orders_order o
        LEFT JOIN (SELECT order_id, sum(total) AS invoiced FROM orders_invoice GROUP BY 1) i
          ON i.order_id = o.id
        LEFT JOIN (SELECT order_id, sum(unit_price * (allocated + backordered)) AS still_open
                   FROM orders_orderline GROUP BY 1) l
          ON l.order_id = o.id
        WHERE o.total <> coalesce(i.invoiced, 0) + coalesce(l.still_open, 0)
                         + CASE WHEN i.order_id IS NULL THEN o.freight ELSE 0 END""",
    # 7. A message key is sent at most once.
    "message_key_used_twice": """
        SELECT count(*) FROM (
            SELECT key FROM notifications_message GROUP BY key HAVING count(*) > 1) d""",
}


def invariant_violations() -> dict[str, int]:
    """Violating row counts per check; all zero when every invariant holds."""
    results = {}
    with connection.cursor() as cursor:
        for name, sql in CHECKS.items():
            cursor.execute(sql)
            results[name] = cursor.fetchone()[0]
    return results

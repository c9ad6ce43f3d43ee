-- The reserve-stock baseline: lock a stock row, allocate one pair with a conditional
-- update, record the reservation. :level_id comes from pgbench -D (hot) or random.
\set level_id random(:min_id, :max_id)
BEGIN;
SELECT id FROM inventory_stocklevel WHERE id = :level_id FOR UPDATE;
UPDATE inventory_stocklevel SET allocated = allocated + 1
  WHERE id = :level_id AND on_hand >= allocated + holdback + 1;
INSERT INTO bench_reservation (stock_level_id, quantity, created_at) VALUES (:level_id, 1, now());
END;

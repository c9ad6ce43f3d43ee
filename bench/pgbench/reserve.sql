-- The reserve-stock baseline: lock a stock row, allocate one pair with a conditional
-- update, record the reservation. It runs on bench_stock, a copy of the stock table
-- with every row in stock; min_id/max_id come from pgbench -D (equal for the hot SKU).
\set level_id random(:min_id, :max_id)
BEGIN;
SELECT id FROM bench_stock WHERE id = :level_id FOR UPDATE;
UPDATE bench_stock SET allocated = allocated + 1
  WHERE id = :level_id AND on_hand >= allocated + holdback + 1;
INSERT INTO bench_reservation (stock_level_id, quantity, created_at) VALUES (:level_id, 1, now());
END;

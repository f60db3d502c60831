-- Orders of the run's day, cleaned: one row per order.
DELETE FROM staging.orders WHERE order_date = '{{ ds }}';
INSERT INTO staging.orders (order_id, customer_id, order_date, status, amount)
SELECT id, customer_id, created_at::date, lower(status), total_cents / 100.0
FROM raw.orders
WHERE created_at::date = '{{ ds }}';

-- Order lines of the run's day.
DELETE FROM staging.order_items WHERE order_date = '{{ ds }}';
INSERT INTO staging.order_items (order_id, product_id, order_date, quantity, unit_price)
SELECT order_id, product_id, created_at::date, quantity, unit_price_cents / 100.0
FROM raw.order_items
WHERE created_at::date = '{{ ds }}';

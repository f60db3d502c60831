-- Settled payments of the run's day.
DELETE FROM staging.payments WHERE paid_on = '{{ ds }}';
INSERT INTO staging.payments (payment_id, order_id, paid_on, method, amount)
SELECT id, order_id, settled_at::date, method, amount_cents / 100.0
FROM raw.payments
WHERE settled_at::date = '{{ ds }}' AND status = 'settled';

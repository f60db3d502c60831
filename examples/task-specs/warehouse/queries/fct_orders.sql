-- One row per order with its lines and payments added up.
DELETE FROM marts.fct_orders WHERE order_date = '{{ ds }}';
INSERT INTO marts.fct_orders (order_id, customer_id, order_date, items, gross_amount, paid_amount)
SELECT o.order_id, o.customer_id, o.order_date,
       coalesce(sum(i.quantity), 0),
       coalesce(sum(i.quantity * i.unit_price), 0),
       coalesce((SELECT sum(p.amount) FROM staging.payments p WHERE p.order_id = o.order_id), 0)
FROM staging.orders o
LEFT JOIN staging.order_items i ON i.order_id = o.order_id
WHERE o.order_date = '{{ ds }}'
GROUP BY o.order_id, o.customer_id, o.order_date;

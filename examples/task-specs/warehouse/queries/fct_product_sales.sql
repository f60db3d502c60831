-- Units and revenue per product and day.
DELETE FROM marts.fct_product_sales WHERE sold_on = '{{ ds }}';
INSERT INTO marts.fct_product_sales (product_id, category, sold_on, units, revenue)
SELECT i.product_id, p.category, i.order_date, sum(i.quantity), sum(i.quantity * i.unit_price)
FROM staging.order_items i
JOIN marts.fct_orders f ON f.order_id = i.order_id
JOIN marts.dim_products p ON p.product_id = i.product_id
WHERE i.order_date = '{{ ds }}'
GROUP BY i.product_id, p.category, i.order_date;

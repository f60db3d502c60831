-- Customers with their first and latest order.
TRUNCATE marts.dim_customers;
INSERT INTO marts.dim_customers (customer_id, email, country, first_order_on, last_order_on, orders)
SELECT c.customer_id, c.email, c.country, min(f.order_date), max(f.order_date), count(f.order_id)
FROM staging.customers c
LEFT JOIN marts.fct_orders f ON f.customer_id = c.customer_id
GROUP BY c.customer_id, c.email, c.country;

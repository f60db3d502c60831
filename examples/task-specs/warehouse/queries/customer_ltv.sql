-- Lifetime value per customer.
TRUNCATE reports.customer_ltv;
INSERT INTO reports.customer_ltv (customer_id, orders, lifetime_value)
SELECT c.customer_id, c.orders, coalesce(sum(f.paid_amount), 0)
FROM marts.dim_customers c
LEFT JOIN marts.fct_orders f ON f.customer_id = c.customer_id
GROUP BY c.customer_id, c.orders;

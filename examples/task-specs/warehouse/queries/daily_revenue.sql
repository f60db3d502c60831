-- Revenue of the day by country and category, for the morning report.
DELETE FROM reports.daily_revenue WHERE day = '{{ ds }}';
INSERT INTO reports.daily_revenue (day, country, category, revenue)
SELECT s.sold_on, c.country, s.category, sum(s.revenue)
FROM marts.fct_product_sales s
JOIN marts.fct_orders f ON f.order_date = s.sold_on
JOIN marts.dim_customers c ON c.customer_id = f.customer_id
WHERE s.sold_on = '{{ ds }}'
GROUP BY s.sold_on, c.country, s.category;

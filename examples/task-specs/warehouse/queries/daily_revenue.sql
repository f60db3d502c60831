-- Revenue, units sold and new customers of the day, for the morning report.
DELETE FROM reports.daily_revenue WHERE day = '{{ ds }}';
INSERT INTO reports.daily_revenue (day, revenue, units, new_customers)
SELECT '{{ ds }}'::date,
       coalesce((SELECT sum(revenue) FROM marts.fct_product_sales WHERE sold_on = '{{ ds }}'), 0),
       coalesce((SELECT sum(units) FROM marts.fct_product_sales WHERE sold_on = '{{ ds }}'), 0),
       (SELECT count(*) FROM marts.dim_customers WHERE first_order_on = '{{ ds }}');

-- Products with their price band.
TRUNCATE marts.dim_products;
INSERT INTO marts.dim_products (product_id, name, category, price_band)
SELECT product_id, name, category,
       CASE WHEN list_price < 20 THEN 'low' WHEN list_price < 100 THEN 'mid' ELSE 'high' END
FROM staging.products;

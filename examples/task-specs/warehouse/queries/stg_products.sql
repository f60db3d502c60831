-- Current product catalogue.
TRUNCATE staging.products;
INSERT INTO staging.products (product_id, name, category, list_price)
SELECT id, name, coalesce(category, 'uncategorized'), list_price_cents / 100.0
FROM raw.products;

-- Current customers, one row each.
TRUNCATE staging.customers;
INSERT INTO staging.customers (customer_id, email, country, signed_up_on)
SELECT id, lower(email), upper(country_code), created_at::date
FROM raw.customers
WHERE deleted_at IS NULL;

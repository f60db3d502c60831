-- The tables the example specs read and write (PostgreSQL), for a database to run them against.
-- Not a spec: the builder reads only the YAML files and the SQL files they name.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS marts;
CREATE SCHEMA IF NOT EXISTS reports;

CREATE TABLE IF NOT EXISTS raw.orders (id bigint PRIMARY KEY, customer_id bigint, created_at timestamptz, status text, total_cents bigint);
CREATE TABLE IF NOT EXISTS raw.order_items (order_id bigint, product_id bigint, created_at timestamptz, quantity integer, unit_price_cents bigint);
CREATE TABLE IF NOT EXISTS raw.payments (id bigint PRIMARY KEY, order_id bigint, settled_at timestamptz, method text, amount_cents bigint, status text);
CREATE TABLE IF NOT EXISTS raw.customers (id bigint PRIMARY KEY, email text, country_code text, created_at timestamptz, deleted_at timestamptz);
CREATE TABLE IF NOT EXISTS raw.products (id bigint PRIMARY KEY, name text, category text, list_price_cents bigint);
CREATE TABLE IF NOT EXISTS raw.ad_spend (campaign_id text, channel text, day date, cost_micros bigint);
CREATE TABLE IF NOT EXISTS raw.web_sessions (id text PRIMARY KEY, utm_campaign text, started_at timestamptz, converted boolean);

CREATE TABLE IF NOT EXISTS staging.orders (order_id bigint, customer_id bigint, order_date date, status text, amount numeric);
CREATE TABLE IF NOT EXISTS staging.order_items (order_id bigint, product_id bigint, order_date date, quantity integer, unit_price numeric);
CREATE TABLE IF NOT EXISTS staging.payments (payment_id bigint, order_id bigint, paid_on date, method text, amount numeric);
CREATE TABLE IF NOT EXISTS staging.customers (customer_id bigint, email text, country text, signed_up_on date);
CREATE TABLE IF NOT EXISTS staging.products (product_id bigint, name text, category text, list_price numeric);
CREATE TABLE IF NOT EXISTS staging.ad_spend (campaign_id text, channel text, day date, spend numeric);
CREATE TABLE IF NOT EXISTS staging.web_sessions (session_id text, campaign_id text, day date, converted boolean);

CREATE TABLE IF NOT EXISTS marts.fct_orders (order_id bigint, customer_id bigint, order_date date, items bigint, gross_amount numeric, paid_amount numeric);
CREATE TABLE IF NOT EXISTS marts.dim_customers (customer_id bigint, email text, country text, first_order_on date, last_order_on date, orders bigint);
CREATE TABLE IF NOT EXISTS marts.dim_products (product_id bigint, name text, category text, price_band text);
CREATE TABLE IF NOT EXISTS marts.fct_product_sales (product_id bigint, category text, sold_on date, units bigint, revenue numeric);
CREATE TABLE IF NOT EXISTS marts.campaign_performance (campaign_id text, channel text, day date, spend numeric, sessions bigint, conversions bigint);

CREATE TABLE IF NOT EXISTS reports.daily_revenue (day date, revenue numeric, units bigint, new_customers bigint);
CREATE TABLE IF NOT EXISTS reports.customer_ltv (customer_id bigint, orders bigint, lifetime_value numeric);
CREATE TABLE IF NOT EXISTS reports.channel_report (day date, channel text, spend numeric, conversions bigint, cost_per_conversion numeric);

-- Web sessions of the day with their landing campaign.
DELETE FROM staging.web_sessions WHERE day = '{{ ds }}';
INSERT INTO staging.web_sessions (session_id, campaign_id, day, converted)
SELECT id, utm_campaign, started_at::date, converted
FROM raw.web_sessions
WHERE started_at::date = '{{ ds }}';

-- Spend, sessions and conversions per campaign and day.
DELETE FROM marts.campaign_performance WHERE day = '{{ ds }}';
INSERT INTO marts.campaign_performance (campaign_id, channel, day, spend, sessions, conversions)
SELECT a.campaign_id, a.channel, a.day, a.spend, count(w.session_id), count(*) FILTER (WHERE w.converted)
FROM staging.ad_spend a
LEFT JOIN staging.web_sessions w ON w.campaign_id = a.campaign_id AND w.day = a.day
WHERE a.day = '{{ ds }}'
GROUP BY a.campaign_id, a.channel, a.day, a.spend;

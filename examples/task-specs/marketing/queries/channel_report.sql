-- Cost per conversion by channel.
DELETE FROM reports.channel_report WHERE day = '{{ ds }}';
INSERT INTO reports.channel_report (day, channel, spend, conversions, cost_per_conversion)
SELECT day, channel, sum(spend), sum(conversions), sum(spend) / nullif(sum(conversions), 0)
FROM marts.campaign_performance
WHERE day = '{{ ds }}'
GROUP BY day, channel;

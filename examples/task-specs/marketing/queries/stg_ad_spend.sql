-- Ad spend of the day per campaign.
DELETE FROM staging.ad_spend WHERE day = '{{ ds }}';
INSERT INTO staging.ad_spend (campaign_id, channel, day, spend)
SELECT campaign_id, lower(channel), day, cost_micros / 1000000.0
FROM raw.ad_spend
WHERE day = '{{ ds }}';

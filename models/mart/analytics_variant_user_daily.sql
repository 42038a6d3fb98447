-- Daily per-variant, per-user summary for A/B test analysis (the lecture's final table).
-- clicked is an integer flag (0/1): PostgreSQL needs `clicked = 1` where Redshift accepted
-- a bare `clicked` in the CASE condition.
WITH u AS (
    SELECT * FROM {{ ref("dim_user") }}
), ue AS (
    SELECT * FROM {{ ref("fact_user_event") }}
)
SELECT
    variant_id,
    ue.user_id,
    datestamp,
    age,
    gender,
    COUNT(DISTINCT item_id) num_of_items, -- total impressions
    COUNT(DISTINCT CASE WHEN clicked = 1 THEN item_id END) num_of_clicks, -- total clicks
    SUM(purchased) num_of_purchases, -- total purchases
    SUM(paidamount) revenue, -- total revenue
    ROUND({{ safe_divide('COUNT(DISTINCT CASE WHEN clicked = 1 THEN item_id END)', 'COUNT(DISTINCT item_id)') }}, 4) AS click_through_rate -- clicks / impressions
FROM ue LEFT JOIN u ON ue.user_id = u.user_id
GROUP by 1, 2, 3, 4, 5

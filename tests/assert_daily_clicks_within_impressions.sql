-- Business rule: per variant, user and day, an item cannot be clicked or bought more
-- often than it was shown, so clicks and purchases never exceed impressions and the
-- click-through rate stays between 0 and 1.
select
    variant_id,
    user_id,
    datestamp,
    num_of_items,
    num_of_clicks,
    num_of_purchases,
    click_through_rate
from {{ ref('analytics_variant_user_daily') }}
where num_of_clicks > num_of_items
   or num_of_purchases > num_of_items
   or click_through_rate not between 0 and 1

-- Business rule: an impression earns money only when the item was bought, and a
-- purchase always earns something. Returns the impressions that break it.
select
    user_id,
    datestamp,
    item_id,
    purchased,
    paidamount
from {{ ref('fact_user_event') }}
where (purchased = 0 and paidamount <> 0)
   or (purchased = 1 and paidamount <= 0)

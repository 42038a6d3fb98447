-- The grain of fact_user_event: one row per user, day and item shown (its key is these
-- three columns together, which unique on one column cannot check).
select
    user_id,
    datestamp,
    item_id,
    count(*) as n_records
from {{ ref('fact_user_event') }}
group by user_id, datestamp, item_id
having count(*) > 1

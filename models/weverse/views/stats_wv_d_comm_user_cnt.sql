-- Members and fan-club members who joined each community per day (page 002).
select
    date(c.part_date) as key_date,
    c.we_art_id,
    c.we_art_name,
    count(distinct c.wv_user_id)::bigint as tot_user_cnt,
    count(distinct case when c.is_fc = 1 then c.wv_user_id end)::bigint as fc_user_cnt,
    (now() at time zone 'UTC')::timestamp as run_timestamp
from {{ ref('wv_comm_user') }} as c
group by 1, 2, 3

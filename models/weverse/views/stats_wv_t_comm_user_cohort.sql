-- The fan-club share of each quarterly cohort of first joins, per community (page 002).
select
    extract(year from c.comm_user_first_dt) || '/' || extract(quarter from c.comm_user_first_dt) || 'Q' as cohort,
    c.we_art_id,
    c.we_art_name,
    count(distinct c.wv_user_id)::bigint as tot_user_cnt,
    count(distinct case when c.is_fc = 1 then c.wv_user_id end)::bigint as fc_user_cnt,
    round(count(distinct case when c.is_fc = 1 then c.wv_user_id end) * 1.0 / count(distinct c.wv_user_id), 4)::double precision as fc_ratio,
    (now() at time zone 'UTC')::timestamp as run_timestamp
from {{ ref('wv_comm_user') }} as c
group by 1, 2, 3

-- Lives that count as Weverse lives: not migrated from V LIVE and not cancelled.
select
    post_id::text as post_id,
    video_id::text as video_id,
    we_art_id::int as we_art_id,
    comm_id::int as comm_id,
    title::text as title,
    status::text as status,
    is_fc_only::int as is_fc_only,
    start_dt::timestamp as start_dt,
    end_dt::timestamp as end_dt
from {{ source('we_mart', 'wv_live') }}
where is_from_vlive = 0
  and status <> 'CANCELED'

select
    wv_user_id::text as wv_user_id,
    comm_id::int as comm_id,
    we_art_id::int as we_art_id,
    comm_user_id::text as comm_user_id,
    comm_user_first_dt::timestamp as comm_user_first_dt,
    comm_user_cre_dt::timestamp as comm_user_cre_dt,
    comm_user_end_dt::timestamp as comm_user_end_dt
from {{ source('we_mart', 'wv_comm_user_update') }}

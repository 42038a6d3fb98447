-- Fan-club memberships that were granted: paid, and not cancelled by a restore.
select
    fc_id::bigint as fc_id,
    we_member_id::bigint as we_member_id,
    we_art_id::int as we_art_id,
    start_dt::timestamp as start_dt,
    end_dt::timestamp as end_dt
from {{ source('we_mart', 'ws_fc_user_history') }}
where ord_status <> 'PAYMENT_FAILED'
  and is_cx_by_restore = 0

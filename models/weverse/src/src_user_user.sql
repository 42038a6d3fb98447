select
    id::text as wv_user_id,
    we_member_id::bigint as we_member_id,
    status::text as wv_user_status,
    created_at::timestamp as wv_join_dt
from {{ source('weverse2', 'user_user') }}

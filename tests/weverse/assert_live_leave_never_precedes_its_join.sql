-- A leave never precedes its join: every leave of a live comes after a join of the same
-- live on the same device (the viewing session it ends). Rows returned are leaves
-- without one.
with live_requests as (
    select
        post_id,
        user_info_device_id,
        log_dt,
        is_leave,
        sum(is_join) over (
            partition by post_id, user_info_device_id
            order by log_dt, is_leave
            rows unbounded preceding
        ) as joins_so_far
    from {{ ref('wv_server_log_base') }}
    where url in ('/video/v1.0/join', '/video/v1.0/leave')
)

select *
from live_requests
where is_leave = 1
  and joins_so_far = 0

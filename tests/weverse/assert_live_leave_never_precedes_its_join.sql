-- A leave never precedes its join: every leave of a live has a join of the same live on
-- the same device before it (the viewing session it ends). Rows returned are leaves
-- without one.
with live_requests as (
    select post_id, user_info_device_id, log_dt, is_join, is_leave
    from {{ ref('wv_server_log_base') }}
    where url in ('/video/v1.0/join', '/video/v1.0/leave')
)

select l.*
from live_requests as l
where l.is_leave = 1
  and not exists (
      select 1
      from live_requests as j
      where j.is_join = 1
        and j.post_id = l.post_id
        and j.user_info_device_id = l.user_info_device_id
        and j.log_dt <= l.log_dt
  )

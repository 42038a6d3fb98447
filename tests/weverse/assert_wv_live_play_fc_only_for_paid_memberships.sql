-- is_fc follows the page's fan-club rule: a row is flagged exactly when, at the first join
-- or leave of its minute, the viewer (user_user.we_member_id) held a membership of the
-- row's artist in ws_fc_user_history that was paid (ord_status not PAYMENT_FAILED) and
-- not cancelled by a restore (is_cx_by_restore 0). Returns the rows flagged wrongly.
with minute_firsts as (
    select
        post_id,
        user_info_device_id as device_id,
        user_id_fill as wv_user_id,
        date_id,
        hour,
        extract(minute from log_dt)::int as minute,
        min(log_dt) as first_log_dt
    from {{ ref('wv_server_log_base') }}
    where url in ('/video/v1.0/join', '/video/v1.0/leave')
      and user_id_fill is not null
    group by 1, 2, 3, 4, 5, 6
),

paid_memberships as (
    select u.id::text as wv_user_id, f.we_art_id, f.start_dt, f.end_dt
    from {{ source('we_mart', 'ws_fc_user_history') }} as f
    join {{ source('weverse2', 'user_user') }} as u on u.we_member_id = f.we_member_id
    where f.ord_status <> 'PAYMENT_FAILED'
      and f.is_cx_by_restore = 0
),

held as (
    -- the minutes whose first request fell inside such a membership, per artist
    select distinct mf.post_id, mf.device_id, mf.wv_user_id, mf.date_id, mf.hour, mf.minute, m.we_art_id
    from minute_firsts as mf
    join paid_memberships as m
        on m.wv_user_id = mf.wv_user_id
        and mf.first_log_dt >= m.start_dt
        and mf.first_log_dt < m.end_dt
)

select p.post_id, p.we_art_id, p.wv_user_id, p.device_id, p.datetime, p.is_fc
from {{ ref('wv_live_play') }} as p
left join held as h
    on h.post_id = p.post_id
    and h.we_art_id = p.we_art_id
    and h.device_id = p.device_id
    and h.wv_user_id = p.wv_user_id
    and h.date_id = p.date_id
    and h.hour = p.hour
    and h.minute = p.minute
where p.is_fc <> (h.post_id is not null)::int

{#
  Live viewing (위버스 라이브 시청): the join (play) and leave requests of the server log
  for Weverse lives, per live, artist, user, device and KST minute, with the viewer's
  play time and what the viewer was during the live (new Weverse user, new community
  member, community member, fan-club member). A joint live gives one set of rows to its
  host (guest_joint_seq 0) and one to each guest artist (1, 2, ... in joining order).
#}
{{ config(
    materialized='table',
    indexes=[
        {'columns': ['part_date']},
        {'columns': ['post_id', 'wv_user_id']},
    ],
) }}

with lives as (
    select * from {{ ref('src_wv_live') }}
),

live_logs as (
    select
        s.date_id,
        s.hour,
        extract(minute from s.log_dt)::int as minute,
        s.log_dt,
        s.user_id_fill as wv_user_id,
        s.user_info_device_id as device_id,
        s.platform,
        s.os,
        s.gcc,
        s.post_id,
        s.is_join,
        s.is_leave,
        l.video_id,
        l.start_dt,
        l.end_dt,
        l.we_art_id,
        l.comm_id,
        l.is_fc_only
    from {{ ref('wv_server_log_base') }} as s
    join lives as l on l.post_id = s.post_id
    where s.url in ('/video/v1.0/join', '/video/v1.0/leave')
      -- a live is watched logged in: requests without any user in their session drop out
      and s.user_id_fill is not null
),

ends as (
    -- a live still on air ends, for now, at its last join or leave
    select
        ll.*,
        coalesce(ll.end_dt, greatest(ll.start_dt, max(ll.log_dt) over (partition by ll.post_id))) as tmp_end_dt
    from live_logs as ll
),

plays as (
    -- each join plays until the device's next request for the live (its leave, or a new
    -- join when the leave was lost), else until the live ends; only on-air time counts
    select
        e.*,
        case when e.is_join = 1 then
            greatest(0, extract(epoch from
                least(coalesce(lead(e.log_dt) over device_live, e.tmp_end_dt), e.tmp_end_dt)
                - greatest(e.log_dt, e.start_dt)))::bigint
        else 0 end as play_seconds,
        case when e.is_join = 1 and row_number() over (partition by e.post_id, e.wv_user_id, e.is_join order by e.log_dt, e.device_id) = 1 then 1 else 0 end as is_u_join_first,
        case when e.is_leave = 1 and row_number() over (partition by e.post_id, e.wv_user_id, e.is_leave order by e.log_dt desc, e.device_id desc) = 1 then 1 else 0 end as is_u_leave_last,
        case when e.is_join = 1 and row_number() over (partition by e.post_id, e.device_id, e.is_join order by e.log_dt) = 1 then 1 else 0 end as is_d_join_first,
        case when e.is_leave = 1 and row_number() over (partition by e.post_id, e.device_id, e.is_leave order by e.log_dt desc) = 1 then 1 else 0 end as is_d_leave_last
    from ends as e
    window device_live as (partition by e.post_id, e.device_id order by e.log_dt)
),

play_totals as (
    select
        p.*,
        sum(p.play_seconds) over (partition by p.post_id, p.wv_user_id) as u_sum_play_time,
        sum(p.play_seconds) over (partition by p.post_id, p.device_id) as d_sum_play_time
    from plays as p
),

minutes as (
    select
        t.post_id,
        t.wv_user_id,
        t.device_id,
        t.date_id,
        t.hour,
        t.minute,
        min(t.log_dt) as first_log_dt,
        min(t.platform) as platform,
        min(t.os) as os,
        min(t.gcc) as ctry_code,
        min(t.video_id) as video_id,
        min(t.start_dt) as start_dt,
        min(t.end_dt) as end_dt,
        min(t.tmp_end_dt) as tmp_end_dt,
        min(t.we_art_id) as host_we_art_id,
        min(t.comm_id) as host_comm_id,
        min(t.is_fc_only) as is_fc_only,
        max(t.is_join) as is_join,
        max(t.is_leave) as is_leave,
        max(t.is_u_join_first) as u_join_first,
        max(t.is_u_leave_last) as u_leave_last,
        max(t.is_d_join_first) as d_join_first,
        max(t.is_d_leave_last) as d_leave_last,
        sum(t.is_join) as join_cnt,
        sum(t.is_leave) as leave_cnt,
        min(t.u_sum_play_time) as u_sum_play_time,
        min(t.d_sum_play_time) as d_sum_play_time
    from play_totals as t
    group by t.post_id, t.wv_user_id, t.device_id, t.date_id, t.hour, t.minute
),

artists as (
    -- the host, then each guest of a joint live
    select post_id, we_art_id, comm_id, 0 as guest_joint_seq from lives
    union all
    select j.post_id, j.we_art_id, j.comm_id, j.guest_joint_seq
    from {{ ref('src_wv_live_joint_history') }} as j
    join lives as l on l.post_id = j.post_id
),

joint_lives as (
    select distinct post_id from {{ ref('src_wv_live_joint_history') }}
),

users as (
    select * from {{ ref('src_user_user') }}
),

viewer_rows as (
    select
        m.*,
        a.we_art_id,
        a.comm_id,
        a.guest_joint_seq,
        u.we_member_id,
        u.wv_join_dt
    from minutes as m
    join artists as a on a.post_id = m.post_id
    left join users as u on u.wv_user_id = m.wv_user_id
),

membership_flags as (
    -- what the viewer was in the artist's community during the live
    select
        v.post_id,
        v.we_art_id,
        v.wv_user_id,
        max((c.comm_user_first_dt between v.start_dt and v.tmp_end_dt)::int) as is_first_comm_join,
        max((c.comm_user_cre_dt between v.start_dt and v.tmp_end_dt)::int) as is_comm_join,
        max((c.comm_user_cre_dt <= v.tmp_end_dt
            and (c.comm_user_end_dt is null or c.comm_user_end_dt >= v.start_dt))::int) as is_comm_user
    from (select distinct post_id, we_art_id, wv_user_id, start_dt, tmp_end_dt from viewer_rows) as v
    join {{ ref('src_wv_comm_user_update') }} as c
        on c.wv_user_id = v.wv_user_id and c.we_art_id = v.we_art_id
    group by v.post_id, v.we_art_id, v.wv_user_id
),

fan_club_minutes as (
    -- minutes in which the viewer held a fan-club membership of the artist
    select distinct v.post_id, v.we_art_id, v.wv_user_id, v.device_id, v.date_id, v.hour, v.minute
    from viewer_rows as v
    join {{ ref('src_ws_fc_user_history') }} as f
        on f.we_member_id = v.we_member_id
        and f.we_art_id = v.we_art_id
        and v.first_log_dt >= f.start_dt
        and v.first_log_dt < f.end_dt
)

select
    (now() at time zone 'UTC')::timestamp as run_timestamp,
    to_char(v.start_dt + interval '9 hours', 'YYYY-MM-DD')::text as part_date,
    v.date_id::text as date_id,
    v.hour::text as hour,
    v.minute::int as minute,
    (v.date_id || ' ' || v.hour || ':' || lpad(v.minute::text, 2, '0'))::text as datetime,
    v.we_member_id::bigint as we_member_id,
    v.wv_user_id::text as wv_user_id,
    v.device_id::text as device_id,
    v.platform::text as platform,
    v.os::text as os,
    v.ctry_code::text as ctry_code,
    v.post_id::text as post_id,
    v.video_id::text as video_id,
    v.start_dt::timestamp as start_dt,
    v.end_dt::timestamp as end_dt,
    v.tmp_end_dt::timestamp as tmp_end_dt,
    v.we_art_id::int as we_art_id,
    v.comm_id::int as comm_id,
    v.is_fc_only::int as is_fc_only,
    (jl.post_id is not null)::int as is_joint_live,
    v.is_join::int as is_join,
    v.is_leave::int as is_leave,
    v.u_join_first::int as u_join_first,
    v.u_leave_last::int as u_leave_last,
    v.d_join_first::int as d_join_first,
    v.d_leave_last::int as d_leave_last,
    (v.end_dt is not null and v.first_log_dt > v.end_dt)::int as is_late,
    v.join_cnt::bigint as join_cnt,
    v.leave_cnt::bigint as leave_cnt,
    v.u_sum_play_time::bigint as u_sum_play_time,
    v.d_sum_play_time::bigint as d_sum_play_time,
    coalesce(v.wv_join_dt between v.start_dt and v.tmp_end_dt, false)::int as is_first_wv_join,
    coalesce(mf.is_first_comm_join, 0)::int as is_first_comm_join,
    coalesce(mf.is_comm_join, 0)::int as is_comm_join,
    coalesce(mf.is_comm_user, 0)::int as is_comm_user,
    (fm.post_id is not null)::int as is_fc,
    v.guest_joint_seq::int as guest_joint_seq
from viewer_rows as v
left join joint_lives as jl on jl.post_id = v.post_id
left join membership_flags as mf
    on mf.post_id = v.post_id and mf.we_art_id = v.we_art_id and mf.wv_user_id = v.wv_user_id
left join fan_club_minutes as fm
    on fm.post_id = v.post_id and fm.we_art_id = v.we_art_id and fm.wv_user_id = v.wv_user_id
    and fm.device_id = v.device_id and fm.date_id = v.date_id and fm.hour = v.hour and fm.minute = v.minute

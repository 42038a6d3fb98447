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

memberships as (
    select * from {{ ref('src_wv_comm_user_update') }}
),

fan_clubs as (
    select * from {{ ref('src_ws_fc_user_history') }}
)

select
    (now() at time zone 'UTC')::timestamp as run_timestamp,
    to_char(m.start_dt + interval '9 hours', 'YYYY-MM-DD')::text as part_date,
    m.date_id::text as date_id,
    m.hour::text as hour,
    m.minute::int as minute,
    (m.date_id || ' ' || m.hour || ':' || lpad(m.minute::text, 2, '0'))::text as datetime,
    u.we_member_id::bigint as we_member_id,
    m.wv_user_id::text as wv_user_id,
    m.device_id::text as device_id,
    m.platform::text as platform,
    m.os::text as os,
    m.ctry_code::text as ctry_code,
    m.post_id::text as post_id,
    m.video_id::text as video_id,
    m.start_dt::timestamp as start_dt,
    m.end_dt::timestamp as end_dt,
    m.tmp_end_dt::timestamp as tmp_end_dt,
    a.we_art_id::int as we_art_id,
    a.comm_id::int as comm_id,
    m.is_fc_only::int as is_fc_only,
    (jl.post_id is not null)::int as is_joint_live,
    m.is_join::int as is_join,
    m.is_leave::int as is_leave,
    m.u_join_first::int as u_join_first,
    m.u_leave_last::int as u_leave_last,
    m.d_join_first::int as d_join_first,
    m.d_leave_last::int as d_leave_last,
    (m.end_dt is not null and m.first_log_dt > m.end_dt)::int as is_late,
    m.join_cnt::bigint as join_cnt,
    m.leave_cnt::bigint as leave_cnt,
    m.u_sum_play_time::bigint as u_sum_play_time,
    m.d_sum_play_time::bigint as d_sum_play_time,
    coalesce(u.wv_join_dt between m.start_dt and m.tmp_end_dt, false)::int as is_first_wv_join,
    exists (
        select 1 from memberships as c
        where c.wv_user_id = m.wv_user_id and c.we_art_id = a.we_art_id
          and c.comm_user_first_dt between m.start_dt and m.tmp_end_dt
    )::int as is_first_comm_join,
    exists (
        select 1 from memberships as c
        where c.wv_user_id = m.wv_user_id and c.we_art_id = a.we_art_id
          and c.comm_user_cre_dt between m.start_dt and m.tmp_end_dt
    )::int as is_comm_join,
    exists (
        select 1 from memberships as c
        where c.wv_user_id = m.wv_user_id and c.we_art_id = a.we_art_id
          and c.comm_user_cre_dt <= m.tmp_end_dt
          and (c.comm_user_end_dt is null or c.comm_user_end_dt >= m.start_dt)
    )::int as is_comm_user,
    exists (
        select 1 from fan_clubs as f
        where f.we_member_id = u.we_member_id and f.we_art_id = a.we_art_id
          and m.first_log_dt >= f.start_dt and m.first_log_dt < f.end_dt
    )::int as is_fc,
    a.guest_joint_seq::int as guest_joint_seq
from minutes as m
join artists as a on a.post_id = m.post_id
left join joint_lives as jl on jl.post_id = m.post_id
left join users as u on u.wv_user_id = m.wv_user_id

-- wv_live_play rows follow their join and leave requests and their live: every row has a
-- join or a leave and its is_join / is_leave say so; a device's first join and last leave
-- of a live are flagged once, on rows with a join / a leave; part_date is the live's KST
-- start day; is_late marks exactly the minutes after the live ended; a joint live's rows
-- are its host's (guest_joint_seq 0) and its guests' in joining order.
with lives as (
    select post_id, we_art_id, end_dt
    from {{ source('we_mart', 'wv_live') }}
),

guests as (
    select post_id, guest_we_art_id as we_art_id, guest_joint_seq
    from {{ source('we_mart', 'wv_live_joint_history') }}
),

rows_with_minute as (
    select
        p.*,
        (p.date_id || ' ' || p.hour || ':' || lpad(p.minute::text, 2, '0'))::timestamp
            - interval '9 hours' as minute_start_utc
    from {{ ref('wv_live_play') }} as p
)

select 'no join or leave' as problem, post_id, we_art_id, wv_user_id, device_id, datetime
from rows_with_minute
where join_cnt + leave_cnt = 0
   or is_join <> (join_cnt > 0)::int
   or is_leave <> (leave_cnt > 0)::int
   or ((u_join_first = 1 or d_join_first = 1) and is_join = 0)
   or ((u_leave_last = 1 or d_leave_last = 1) and is_leave = 0)
union all
select 'd_join_first not exactly once', post_id, we_art_id, null, device_id, null
from rows_with_minute
group by post_id, we_art_id, device_id
having sum(join_cnt) > 0 and sum(d_join_first) <> 1
union all
select 'd_leave_last not exactly once', post_id, we_art_id, null, device_id, null
from rows_with_minute
group by post_id, we_art_id, device_id
having sum(leave_cnt) > 0 and sum(d_leave_last) <> 1
union all
select 'part_date is not the live''s KST start day', post_id, we_art_id, wv_user_id, device_id, datetime
from rows_with_minute
where part_date <> to_char(start_dt + interval '9 hours', 'YYYY-MM-DD')
union all
select 'is_late against the live''s end', p.post_id, p.we_art_id, p.wv_user_id, p.device_id, p.datetime
from rows_with_minute as p
join lives as l on l.post_id = p.post_id
where (p.is_late = 1 and (l.end_dt is null or p.minute_start_utc + interval '1 minute' <= l.end_dt))
   or (p.is_late = 0 and p.minute_start_utc > l.end_dt)
union all
select 'artist is not the host or the guest of that order', p.post_id, p.we_art_id, p.wv_user_id, p.device_id, p.datetime
from rows_with_minute as p
left join lives as l on l.post_id = p.post_id and l.we_art_id = p.we_art_id
left join guests as g
    on g.post_id = p.post_id and g.we_art_id = p.we_art_id and g.guest_joint_seq = p.guest_joint_seq
where (p.guest_joint_seq = 0 and l.post_id is null)
   or (p.guest_joint_seq <> 0 and g.post_id is null)
   or p.is_joint_live <> (exists (select 1 from guests as j where j.post_id = p.post_id))::int

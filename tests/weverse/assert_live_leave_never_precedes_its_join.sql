-- A leave never precedes its join within a session: every leave of a live comes after a
-- join of the same live on the same device in the same visit (requests no more than
-- session_gap_minutes apart). The visits are derived here from the gap rule alone:
-- wv_server_log_base also cuts sess_id at KST midnight, so a live watched across midnight
-- has its join in one day's session and its leave in the next. Rows returned are leaves
-- without a join before them.
{%- set session_gap_minutes = var('session_gap_minutes', 30) %}
with requests as (
    select
        post_id,
        user_info_device_id,
        log_dt,
        sess_seq,
        url,
        is_join,
        is_leave,
        case
            when log_dt - lag(log_dt) over (partition by user_info_device_id order by log_dt, sess_seq)
                <= interval '{{ session_gap_minutes }} minutes'
            then 0 else 1
        end as starts_visit
    from {{ ref('wv_server_log_base') }}
),

visits as (
    select
        *,
        sum(starts_visit) over (
            partition by user_info_device_id
            order by log_dt, sess_seq
            rows unbounded preceding
        ) as visit
    from requests
),

live_requests as (
    select
        post_id,
        user_info_device_id,
        visit,
        log_dt,
        is_leave,
        sum(is_join) over (
            partition by post_id, user_info_device_id, visit
            order by log_dt, is_leave
            rows unbounded preceding
        ) as joins_so_far
    from visits
    where url in ('/video/v1.0/join', '/video/v1.0/leave')
)

select *
from live_requests
where is_leave = 1
  and joins_so_far = 0

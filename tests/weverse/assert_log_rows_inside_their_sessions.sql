-- Sessions hold together: each row lies between its session's and user session's first
-- and last request, in its own KST day and hour, sess_id is the session's first request
-- time (yyyyMMddHHmmssSSS, UTC) and device, sess_seq runs 1..n within one day, and the
-- session rule holds: a device's next request in the same KST day stays in the session
-- unless it comes more than session_gap_minutes later.
{%- set session_gap_minutes = var('session_gap_minutes', 30) %}
with sessions as (
    select
        sess_id,
        count(*) as requests,
        max(sess_seq) as last_seq,
        count(distinct sess_seq) as distinct_seqs,
        count(distinct date_id) as days
    from {{ ref('wv_server_log_base') }}
    group by sess_id
),

device_steps as (
    select
        sess_id,
        log_dt,
        date_id,
        lag(sess_id) over device as prev_sess_id,
        lag(log_dt) over device as prev_log_dt,
        lag(date_id) over device as prev_date_id
    from {{ ref('wv_server_log_base') }}
    window device as (partition by user_info_device_id order by log_dt, sess_seq)
)

select b.sess_id, 'row outside its session' as problem
from {{ ref('wv_server_log_base') }} as b
where b.log_dt not between b.sess_start_dt and b.sess_end_dt
   or b.log_dt not between b.user_sess_start_dt and b.user_sess_end_dt
   or b.user_sess_start_dt < b.sess_start_dt
   or b.user_sess_end_dt > b.sess_end_dt
   or b.date_id <> to_char(b.log_dt + interval '9 hours', 'YYYY-MM-DD')
   or b.hour <> to_char(b.log_dt + interval '9 hours', 'HH24')
   or b.sess_id <> to_char(b.sess_start_dt, 'YYYYMMDDHH24MISSMS') || '|' || b.user_info_device_id
   or b.user_sess_id <> b.sess_id || '|' || coalesce(b.user_id_fill, '')
union all
select s.sess_id, 'sess_seq not 1..n or session over two days'
from sessions as s
where s.last_seq <> s.requests or s.distinct_seqs <> s.requests or s.days <> 1
union all
select d.sess_id, 'session cut against the gap rule'
from device_steps as d
where d.prev_log_dt is not null
  and (d.sess_id = d.prev_sess_id) = (
      d.log_dt - d.prev_log_dt > interval '{{ session_gap_minutes }} minutes'
      or d.date_id <> d.prev_date_id
  )

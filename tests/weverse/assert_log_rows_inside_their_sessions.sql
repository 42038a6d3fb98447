-- Sessions hold together: each row lies between its session's and user session's first
-- and last request, in its own KST day, sess_seq runs 1..n without gaps, and a session
-- never spans more than its requests plus 30-minute gaps allow.
with sessions as (
    select
        sess_id,
        count(*) as requests,
        max(sess_seq) as last_seq,
        count(distinct sess_seq) as distinct_seqs,
        count(distinct date_id) as days
    from {{ ref('wv_server_log_base') }}
    group by sess_id
)

select b.sess_id, 'row outside its session' as problem
from {{ ref('wv_server_log_base') }} as b
where b.log_dt not between b.sess_start_dt and b.sess_end_dt
   or b.log_dt not between b.user_sess_start_dt and b.user_sess_end_dt
   or b.user_sess_start_dt < b.sess_start_dt
   or b.user_sess_end_dt > b.sess_end_dt
   or b.date_id <> to_char(b.log_dt + interval '9 hours', 'YYYY-MM-DD')
   or b.sess_id not like '%|' || b.user_info_device_id
   or b.user_sess_id <> b.sess_id || '|' || coalesce(b.user_id_fill, '')
union all
select s.sess_id, 'sess_seq not 1..n or session over two days'
from sessions as s
where s.last_seq <> s.requests or s.distinct_seqs <> s.requests or s.days <> 1

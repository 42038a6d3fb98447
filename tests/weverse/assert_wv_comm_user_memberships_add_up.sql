-- wv_comm_user's memberships add up: the first join of any community comes no later than
-- the first join of this one, which comes no later than this membership; is_first_user_comm
-- says whether they are the same; comm_user_seq numbers the user's memberships of the
-- community 1..cnt_comm_user_id in creation order; a membership that ended (LEAVE,
-- WITHDRAW) has its end, after its creation, and a lasting one has none; is_fc goes with
-- fc_id and is_v_user with v_ch_join_dt; the partition keys are the community and the
-- membership's KST creation day.
with spells as (
    select
        wv_user_id,
        comm_id,
        count(*) as memberships,
        count(distinct comm_user_seq) as seqs,
        min(comm_user_seq) as first_seq,
        max(comm_user_seq) as last_seq,
        min(cnt_comm_user_id) as min_cnt,
        max(cnt_comm_user_id) as max_cnt
    from {{ ref('wv_comm_user') }}
    group by wv_user_id, comm_id
)

select comm_user_id, 'membership out of order or inconsistent' as problem
from {{ ref('wv_comm_user') }}
where tot_comm_user_first_dt > comm_user_first_dt
   or comm_user_first_dt > comm_user_cre_dt
   or is_first_user_comm <> (comm_user_first_dt = tot_comm_user_first_dt)::int
   or (comm_user_seq = 1) <> (comm_user_cre_dt = comm_user_first_dt)
   or comm_user_end_dt < comm_user_cre_dt
   or (comm_user_status in ('LEAVE', 'WITHDRAW')) <> (comm_user_end_dt is not null)
   or is_fc <> (fc_id is not null)::int
   or is_v_user <> (v_ch_join_dt is not null)::int
   or part_comm_id <> comm_id
   or part_date <> to_char(comm_user_cre_dt + interval '9 hours', 'YYYY-MM-DD')
   or key_date <> part_date::date
union all
select wv_user_id::text || '/' || comm_id::text, 'comm_user_seq is not 1..cnt_comm_user_id'
from spells
where seqs <> memberships
   or first_seq <> 1
   or last_seq <> memberships
   or min_cnt <> memberships
   or max_cnt <> memberships

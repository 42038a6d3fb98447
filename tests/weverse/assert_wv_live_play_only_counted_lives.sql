-- wv_live_play holds only lives that count (not cancelled, not from V LIVE), and each
-- user's first join and last leave of a live is flagged exactly once per artist.
select 'cancelled or V LIVE live' as problem, p.post_id, p.we_art_id, p.wv_user_id
from {{ ref('wv_live_play') }} as p
join {{ source('we_mart', 'wv_live') }} as l on l.post_id = p.post_id
where l.status = 'CANCELED' or l.is_from_vlive = 1
union all
select 'u_join_first not exactly once', post_id, we_art_id, wv_user_id
from {{ ref('wv_live_play') }}
group by post_id, we_art_id, wv_user_id
having sum(join_cnt) > 0 and sum(u_join_first) <> 1
union all
select 'u_leave_last not exactly once', post_id, we_art_id, wv_user_id
from {{ ref('wv_live_play') }}
group by post_id, we_art_id, wv_user_id
having sum(leave_cnt) > 0 and sum(u_leave_last) <> 1

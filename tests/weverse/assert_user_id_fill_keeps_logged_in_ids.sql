-- user_id_fill only fills gaps: a logged-in request keeps its own user id, and a filled id
-- is one that logged in during the same session.
with session_users as (
    select distinct sess_id, user_info_id
    from {{ ref('wv_server_log_base') }}
    where user_info_id is not null
)

select b.*
from {{ ref('wv_server_log_base') }} as b
left join session_users as u
    on u.sess_id = b.sess_id and u.user_info_id = b.user_id_fill
where (b.user_info_id is not null and b.user_id_fill is distinct from b.user_info_id)
   or (b.user_info_id is null and b.user_id_fill is not null and u.sess_id is null)

-- user_id_fill only fills gaps: a logged-in request keeps its own user id, and a filled id
-- is one that logged in during the same session.
select b.*
from {{ ref('wv_server_log_base') }} as b
where (b.user_info_id is not null and b.user_id_fill is distinct from b.user_info_id)
   or (b.user_info_id is null and b.user_id_fill is not null and not exists (
        select 1
        from {{ ref('wv_server_log_base') }} as o
        where o.sess_id = b.sess_id and o.user_info_id = b.user_id_fill
   ))

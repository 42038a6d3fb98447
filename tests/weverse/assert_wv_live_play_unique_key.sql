-- One row per live, artist, user, device and KST minute.
select post_id, we_art_id, wv_user_id, device_id, date_id, hour, minute, count(*) as n
from {{ ref('wv_live_play') }}
group by post_id, we_art_id, wv_user_id, device_id, date_id, hour, minute
having count(*) > 1

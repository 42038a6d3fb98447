-- The server log with the artist of the request's community (page 000, artist_server_log).
select
    sl.*,
    a.we_art_id::int as we_art_id,
    a.we_art_name::text as we_art_name
from {{ ref('wv_server_log_base') }} as sl
join {{ source('we_mart', 'we_artist') }} as a on a.comm_id::text = sl.comm_id

select user_id, count(*) as sessions
from {{ source('app', 'sessions') }}
group by user_id

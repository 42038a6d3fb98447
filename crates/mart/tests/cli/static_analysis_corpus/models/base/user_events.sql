select e.event_id, e.kind, u.user_name
from {{ source('app', 'events') }} e
join {{ ref('stg_users') }} u using (user_id)

-- stg_users renamed name to user_name
select user_id, name
from {{ ref('stg_users') }}

-- a missing comma: user_name becomes an alias, then email is stray
select user_id user_name email
from {{ ref('stg_users') }}

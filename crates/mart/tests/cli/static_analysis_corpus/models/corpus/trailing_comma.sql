-- a comma before FROM
select user_id, user_name,
from {{ ref('stg_users') }}

-- ORDER BY names neither an input column nor an output alias
select user_id, user_name
from {{ ref('stg_users') }}
order by user_nme

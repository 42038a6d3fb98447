-- two commas in a row
select user_id,, user_name
from {{ ref('stg_users') }}

-- a misspelt column as a function's argument
select user_id, coalesce(nmae, 'unknown') as display_name
from {{ ref('stg_users') }}

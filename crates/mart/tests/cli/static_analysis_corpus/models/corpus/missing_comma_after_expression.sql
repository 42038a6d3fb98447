-- a missing comma after a function call
select user_id, lower(email) country
    upper(user_name) as shout
from {{ ref('stg_users') }}

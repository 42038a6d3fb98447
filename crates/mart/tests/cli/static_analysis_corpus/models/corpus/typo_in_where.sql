-- a misspelt column in WHERE
select user_id, user_name
from {{ ref('stg_users') }}
where contry = 'KR'

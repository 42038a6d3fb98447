-- a misspelt column of a seed (columns read from its CSV header)
select user_id, sigup_date
from {{ ref('users') }}

-- a misspelt column of an upstream model
select user_id, emial
from {{ ref('stg_users') }}

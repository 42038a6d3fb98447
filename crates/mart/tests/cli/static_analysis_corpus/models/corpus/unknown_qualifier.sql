-- the qualifier names no relation of the FROM clause
select x.user_id
from {{ ref('stg_users') }} u

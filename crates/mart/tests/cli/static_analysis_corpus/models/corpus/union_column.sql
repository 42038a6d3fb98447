-- a UNION's columns are named by its first branch
select member_id
from (
    select user_id as member_id from {{ ref('stg_users') }}
    union all
    select user_id from {{ ref('stg_orders') }}
) members
where user_id > 0

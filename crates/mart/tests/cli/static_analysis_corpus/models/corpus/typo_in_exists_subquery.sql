-- a correlated subquery misspells the outer alias's column
select u.user_id
from {{ ref('stg_users') }} u
where exists (
    select 1 from {{ ref('stg_orders') }} o where o.user_id = u.usr_id
)

-- a misspelt column in the join condition
select u.user_id, o.amount
from {{ ref('stg_users') }} u
join {{ ref('stg_orders') }} o on o.usr_id = u.user_id

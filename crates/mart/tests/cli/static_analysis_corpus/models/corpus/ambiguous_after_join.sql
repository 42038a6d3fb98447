-- both sides of the join have user_id
select user_id, amount
from {{ ref('stg_users') }} u
join {{ ref('stg_orders') }} o on o.user_id = u.user_id

-- WHERE reads a column both relations have
select u.user_name, o.amount
from {{ ref('stg_users') }} u
join {{ ref('stg_orders') }} o on o.user_id = u.user_id
where user_id > 1

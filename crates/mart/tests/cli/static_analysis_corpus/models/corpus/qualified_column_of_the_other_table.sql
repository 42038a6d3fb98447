-- email is a column of the users, not of the orders
select o.order_id, o.email
from {{ ref('stg_users') }} u
join {{ ref('stg_orders') }} o on o.user_id = u.user_id

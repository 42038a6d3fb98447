-- the orders are aliased ord, not o
select u.user_id, o.amount
from {{ ref('stg_users') }} u
join {{ ref('stg_orders') }} ord on ord.user_id = u.user_id

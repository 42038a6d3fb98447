-- a self join: every column is on both sides
select amount
from {{ ref('stg_orders') }} a
join {{ ref('stg_orders') }} b on a.order_id = b.order_id

-- a string literal never closed
select order_id
from {{ ref('stg_orders') }}
where status = 'paid

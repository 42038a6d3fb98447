-- an operator without its right operand: FROM is read as a column
select order_id, amount *
from {{ ref('stg_orders') }}

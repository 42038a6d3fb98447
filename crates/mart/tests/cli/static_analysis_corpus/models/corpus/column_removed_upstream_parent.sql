-- (valid) the parent of column_removed_upstream: status was dropped
select order_id, user_id, amount
from {{ ref('stg_orders') }}

-- WHERE with no condition
select order_id
from {{ ref('stg_orders') }}
where

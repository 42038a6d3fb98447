-- an output alias is not visible in WHERE
select order_id, amount * 2 as doubled
from {{ ref('stg_orders') }}
where doubled > 10

-- a misspelt column in a window's PARTITION BY
select
    order_id,
    row_number() over (partition by usr_id order by order_date) as nth_order
from {{ ref('stg_orders') }}

-- a misspelt column inside CASE
select
    order_id,
    case when statsu = 'paid' then amount else 0 end as paid_amount
from {{ ref('stg_orders') }}

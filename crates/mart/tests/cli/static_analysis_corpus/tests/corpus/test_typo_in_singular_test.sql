-- a singular data test misspells the column it checks
select order_id
from {{ ref('stg_orders') }}
where amout < 0

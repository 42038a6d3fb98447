-- a parenthesis left open
select coalesce(amount, 0 as amount
from {{ ref('stg_orders') }}

-- a project macro is given a misspelt column
select order_id, {{ to_cents('amout') }} as amount_cents
from {{ ref('stg_orders') }}

select id, customer_id, status, amount, ordered_at
from {{ source('raw', 'raw_orders') }}
where amount >= {{ var('min_amount') }}

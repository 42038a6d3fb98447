select order_id, user_id, amount, status, ordered_at::date as order_date
from {{ ref('orders') }}

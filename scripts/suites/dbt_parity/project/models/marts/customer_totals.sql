select
    c.id as customer_id,
    c.name,
    count(o.id) as orders,
    coalesce(sum({{ cents('o.amount') }}), 0)::bigint as total_cents
from {{ ref('stg_customers') }} c
left join {{ ref('stg_orders') }} o on o.customer_id = c.id and o.status <> 'returned'
group by c.id, c.name

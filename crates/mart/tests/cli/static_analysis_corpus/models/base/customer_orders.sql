with paid as (
    select * from {{ ref('stg_orders') }} where status = 'paid'
)
select
    u.user_id,
    u.user_name,
    count(p.order_id) as paid_orders,
    coalesce(sum(p.amount), 0) as revenue
from {{ ref('stg_users') }} u
left join paid p on p.user_id = u.user_id
group by u.user_id, u.user_name

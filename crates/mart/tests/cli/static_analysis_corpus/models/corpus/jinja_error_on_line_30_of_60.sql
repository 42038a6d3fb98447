-- a Jinja loop on line 30 of 60 writes a misspelt column in its second pass
{% set measures = ['amount', 'amout'] %}
with orders as (
    select
        order_id,
        user_id,
        amount,
        status,
        order_date
    from {{ ref('stg_orders') }}
),
users as (
    select
        user_id,
        user_name,
        country
    from {{ ref('stg_users') }}
),
paid as (
    select *
    from orders
    where status = 'paid'
),
per_user as (
    select
        user_id,
        count(*) as paid_orders,
        min(order_date) as first_paid,
{% for m in measures %}
        sum({{ m }}) as total_{{ loop.index }},
{% endfor %}
        max(order_date) as last_paid
    from paid
    group by user_id
),
countries as (
    select
        country,
        count(*) as users
    from users
    group by country
)
select
    u.user_id,
    u.user_name,
    u.country,
    c.users as country_users,
    p.paid_orders,
    p.first_paid,
    p.last_paid,
    p.total_1
from users u
left join per_user p
    on p.user_id = u.user_id
left join countries c
    on c.country = u.country
where u.user_id is not null
  and u.country is not null
  and coalesce(p.paid_orders, 0) >= 0
order by u.user_id

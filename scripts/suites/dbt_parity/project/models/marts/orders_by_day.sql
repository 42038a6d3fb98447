{{ config(materialized='incremental', unique_key='day') }}
select ordered_at::date as day, count(*) as orders, sum(amount) as amount
from {{ ref('stg_orders') }}
{% if is_incremental() %}
where ordered_at::date >= (select max(day) from {{ this }})
{% endif %}
group by 1

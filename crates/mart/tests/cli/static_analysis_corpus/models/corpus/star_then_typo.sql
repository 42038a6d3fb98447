-- the CTE selects *, the outer query misspells a column of it
with o as (select * from {{ ref('stg_orders') }})
select order_id, amout from o

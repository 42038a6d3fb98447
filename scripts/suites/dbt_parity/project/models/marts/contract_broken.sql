{{ config(tags=['broken']) }}
select id::text as customer_id, name from {{ ref('stg_customers') }}

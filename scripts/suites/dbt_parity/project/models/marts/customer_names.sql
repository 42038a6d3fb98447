select id as customer_id, name::varchar(20) as name from {{ ref('stg_customers') }}

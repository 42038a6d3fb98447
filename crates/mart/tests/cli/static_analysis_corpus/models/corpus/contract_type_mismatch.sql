-- (contract) the contract declares paid as boolean; the SQL gives it as text
{{ config(materialized='table') }}
select order_id, status::text as paid
from {{ ref('stg_orders') }}

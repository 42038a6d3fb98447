-- (contract) the contract declares signup_date, which the SQL does not select
{{ config(materialized='table') }}
select user_id, email
from {{ ref('stg_users') }}

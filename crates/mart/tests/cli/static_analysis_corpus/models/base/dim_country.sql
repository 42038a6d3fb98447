{{ config(materialized='table') }}
select country, count(*) as users
from {{ ref('stg_users') }}
group by country

-- GROUP without BY
select country, count(*) as n
from {{ ref('stg_users') }}
group country

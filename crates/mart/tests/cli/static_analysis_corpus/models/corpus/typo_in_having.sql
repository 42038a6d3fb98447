-- a misspelt column inside an aggregate in HAVING
select country, count(*) as n
from {{ ref('stg_users') }}
group by country
having count(usr_id) > 1

-- GROUP BY names a column that is neither an input nor an output
select country, count(*) as n
from {{ ref('stg_users') }}
group by contry

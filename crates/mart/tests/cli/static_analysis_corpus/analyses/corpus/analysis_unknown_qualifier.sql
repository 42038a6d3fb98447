-- an analysis qualifies a column with an alias it never defined
select c.country, count(*) as n
from {{ ref('stg_users') }} u
group by c.country

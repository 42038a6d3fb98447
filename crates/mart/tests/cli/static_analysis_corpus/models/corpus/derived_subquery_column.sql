-- the subquery names its sum revenue, not total
select s.total
from (select sum(amount) as revenue from {{ ref('stg_orders') }}) s

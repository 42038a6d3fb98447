-- the IN subquery reads a column its relation lacks
select user_id, user_name
from {{ ref('stg_users') }}
where user_id in (select usr_id from {{ ref('stg_orders') }})

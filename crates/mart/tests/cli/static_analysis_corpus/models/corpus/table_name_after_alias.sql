-- once aliased, the table's own name is not a qualifier
select stg_users.user_id
from {{ ref('stg_users') }} as u

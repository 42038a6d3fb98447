-- dim_country enforces a contract: its columns are country and users
select country, user_count
from {{ ref('dim_country') }}

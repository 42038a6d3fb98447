select v1.country, v2.customers
from {{ ref('dim_country') }} v1
join {{ ref('dim_country', v=2) }} v2 on v2.country = v1.country

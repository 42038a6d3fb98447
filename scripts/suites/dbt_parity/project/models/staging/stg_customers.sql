select id, name, coalesce(country, 'unknown') as country
from {{ ref('raw_customers') }}

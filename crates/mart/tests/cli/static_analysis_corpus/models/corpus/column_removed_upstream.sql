-- the upstream model no longer selects status
select order_id, status
from {{ ref('column_removed_upstream_parent') }}

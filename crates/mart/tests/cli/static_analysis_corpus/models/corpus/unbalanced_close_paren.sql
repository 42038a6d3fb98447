-- one closing parenthesis too many
select round(amount)) as amount
from {{ ref('stg_orders') }}

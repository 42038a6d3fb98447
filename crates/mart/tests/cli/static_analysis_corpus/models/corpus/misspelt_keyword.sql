-- SELECT misspelt
selct user_id
from {{ ref('stg_users') }}

select user_id, name as user_name, email, signup_date, country
from {{ ref('users') }}

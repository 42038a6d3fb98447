-- the column comes from a Jinja variable
{% set date_column = 'signup_day' %}
select user_id, {{ date_column }}
from {{ ref('stg_users') }}

-- the loop writes a comma after its last column
{% set columns = ['user_id', 'user_name', 'email'] %}
select
{% for c in columns %}
    {{ c }},
{% endfor %}
from {{ ref('stg_users') }}

-- Every raw log row lands in exactly one date_id: its KST day. Returns the days where the
-- raw log and wv_server_log_base disagree on the number of rows. A daily run
-- (--vars '{date_id: ...}') builds its day only, so it compares that day only.
{%- set date_id = var('date_id', none) %}
with raw_days as (
    select
        to_char(timestamp 'epoch' + unix_log_timestamp * interval '1 millisecond' + interval '9 hours', 'YYYY-MM-DD') as date_id,
        count(*) as raw_rows
    from {{ source('service_log', 'weverse_server_log') }}
    group by 1
),

base_days as (
    select date_id, count(*) as base_rows
    from {{ ref('wv_server_log_base') }}
    group by 1
)

select coalesce(r.date_id, b.date_id) as date_id, r.raw_rows, b.base_rows
from raw_days as r
full outer join base_days as b on b.date_id = r.date_id
where r.raw_rows is distinct from b.base_rows
{%- if date_id is not none %}
    and coalesce(r.date_id, b.date_id) = '{{ date_id }}'
{%- endif %}

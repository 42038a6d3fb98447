-- Every raw log row lands in exactly one date_id, its KST day: the raw log and
-- wv_server_log_base hold the same requests (by time, device and url), each as often,
-- under the same KST day. Returns the requests where the two disagree. A daily run
-- (--vars '{date_id: ...}') builds its day only, so it compares that day only.
{%- set date_id = var('date_id', none) %}
with raw_rows as (
    select
        to_char(timestamp 'epoch' + unix_log_timestamp * interval '1 millisecond' + interval '9 hours', 'YYYY-MM-DD') as date_id,
        unix_log_timestamp,
        user_info ->> 'device_id' as device_id,
        url,
        count(*) as raw_rows
    from {{ source('service_log', 'weverse_server_log') }}
    group by 1, 2, 3, 4
),

base_rows as (
    select
        date_id,
        (extract(epoch from log_dt) * 1000)::bigint as unix_log_timestamp,
        user_info_device_id as device_id,
        url,
        count(*) as base_rows
    from {{ ref('wv_server_log_base') }}
    group by 1, 2, 3, 4
)

select
    coalesce(r.date_id, b.date_id) as date_id,
    coalesce(r.unix_log_timestamp, b.unix_log_timestamp) as unix_log_timestamp,
    coalesce(r.device_id, b.device_id) as device_id,
    coalesce(r.url, b.url) as url,
    r.raw_rows,
    b.base_rows
from raw_rows as r
full outer join base_rows as b
    on b.date_id = r.date_id
    and b.unix_log_timestamp = r.unix_log_timestamp
    and b.device_id = r.device_id
    and b.url = r.url
where r.raw_rows is distinct from b.base_rows
{%- if date_id is not none %}
    and coalesce(r.date_id, b.date_id) = '{{ date_id }}'
{%- endif %}

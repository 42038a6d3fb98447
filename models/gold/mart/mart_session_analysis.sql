-- 세션 분석 마트: per session and day, its clicks, documents and duration.
{{ config(indexes=[
    {'columns': ['session_id', 'event_date'], 'unique': True},
    {'columns': ['event_date']},
]) }}
select
    f.session_id::varchar(50) as session_id,
    f.event_date::date as event_date,
    count(*)::int as click_count,
    count(distinct f.document_id)::int as unique_docs,
    min(f.event_ts)::timestamp as first_click_ts,
    max(f.event_ts)::timestamp as last_click_ts,
    extract(epoch from max(f.event_ts) - min(f.event_ts))::int as session_duration_sec
from {{ ref('fact_click_event') }} as f
group by f.session_id, f.event_date

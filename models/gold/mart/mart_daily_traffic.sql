-- 일별 트래픽 마트: per day, clicks, sessions, documents and the busiest hour.
{{ config(indexes=[{'columns': ['event_date'], 'unique': True}]) }}
with hours as (
    select
        event_date,
        event_hour,
        row_number() over (partition by event_date order by count(*) desc, event_hour) as busiest
    from {{ ref('fact_click_event') }}
    group by event_date, event_hour
)

select
    f.event_date::date as event_date,
    count(*)::int as total_events,
    count(distinct f.session_id)::int as unique_sessions,
    count(distinct f.document_id)::int as unique_documents,
    min(h.event_hour)::int as peak_hour
from {{ ref('fact_click_event') }} as f
join hours as h on h.event_date = f.event_date and h.busiest = 1
group by f.event_date

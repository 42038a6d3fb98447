-- 인기 문서 마트: per day and document, its views and the sessions viewing it.
{{ config(indexes=[
    {'columns': ['event_date', 'document_id'], 'unique': True},
    {'columns': ['event_date']},
]) }}
select
    f.event_date::date as event_date,
    d.document_id::int as document_id,
    d.title::varchar(500) as title,
    count(*)::int as view_count,
    count(distinct f.session_id)::int as unique_sessions
from {{ ref('fact_click_event') }} as f
join {{ ref('dim_document') }} as d on d.document_id = f.document_id
group by f.event_date, d.document_id, d.title

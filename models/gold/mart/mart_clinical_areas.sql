-- 임상 분야 마트: per day and clinical area, the searches made and the sessions making them.
{{ config(indexes=[
    {'columns': ['event_date', 'clinical_area'], 'unique': True},
    {'columns': ['event_date']},
]) }}
select
    f.event_date::date as event_date,
    a.clinical_area::varchar(100) as clinical_area,
    count(distinct f.search_id)::int as search_count,
    count(distinct f.session_id)::int as unique_sessions
from {{ ref('fact_click_event') }} as f
join {{ ref('dim_clinical_area') }} as a on a.clinical_area_id = f.clinical_area_id
group by f.event_date, a.clinical_area

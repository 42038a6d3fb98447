-- One row per click, with its day and hour and the search's clinical area.
{{ config(indexes=[{'columns': ['event_date']}]) }}
select
    c.event_id,
    c.session_id,
    c.search_id,
    c.event_ts,
    c.event_ts::date as event_date,
    extract(hour from c.event_ts)::int as event_hour,
    c.document_id,
    c.clinical_area_id,
    c.query_text
from {{ ref('src_click_log') }} as c

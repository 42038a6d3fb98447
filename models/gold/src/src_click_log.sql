select
    event_id::bigint as event_id,
    session_id::varchar(50) as session_id,
    search_id::varchar(64) as search_id,
    event_ts::timestamp as event_ts,
    document_id::int as document_id,
    clinical_area_id::int as clinical_area_id,
    query_text::text as query_text
from {{ source('silver', 'click_log') }}

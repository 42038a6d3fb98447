-- The primary keys of page 003's marts: (session_id, event_date), (event_date,
-- clinical_area) and (event_date, document_id) are unique.
select 'mart_session_analysis' as mart, session_id::text as key, count(*) as n
from {{ ref('mart_session_analysis') }}
group by session_id, event_date
having count(*) > 1
union all
select 'mart_clinical_areas', clinical_area::text, count(*)
from {{ ref('mart_clinical_areas') }}
group by event_date, clinical_area
having count(*) > 1
union all
select 'mart_popular_documents', document_id::text, count(*)
from {{ ref('mart_popular_documents') }}
group by event_date, document_id
having count(*) > 1

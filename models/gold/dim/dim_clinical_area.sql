-- One row per clinical area (임상 분야).
select
    clinical_area_id::int as clinical_area_id,
    clinical_area::varchar(100) as clinical_area
from {{ ref('clinical_areas') }}

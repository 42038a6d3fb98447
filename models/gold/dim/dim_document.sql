-- One row per document, with its clinical area.
{{ config(indexes=[{'columns': ['document_id'], 'unique': True}]) }}
select
    d.document_id::int as document_id,
    d.title::varchar(500) as title,
    d.clinical_area_id::int as clinical_area_id,
    a.clinical_area::varchar(100) as clinical_area,
    d.published_year::int as published_year
from {{ ref('documents') }} as d
join {{ ref('clinical_areas') }} as a on a.clinical_area_id = d.clinical_area_id

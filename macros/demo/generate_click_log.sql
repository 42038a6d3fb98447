{#
  Builds the Silver-layer click log of the Gold-layer marts, source('silver', 'click_log'),
  inside PostgreSQL: `mart run-operation generate_click_log --args '{rows: 200000}'`.
  Deterministic (md5 of the row and session numbers). Run `mart seed` first: clicks land
  on the documents of the documents seed.

  Click e (1..rows) is click (e - 1) % 10 of session (e - 1) / 10; every three clicks of a
  session follow one search in a clinical area, and click documents of that area, the
  first documents of an area far more often than the last. Sessions start at a hashed
  moment of the `days` days from `start_date` (UTC) and click every 20-220 seconds, so
  some run past midnight.
#}
{% macro generate_click_log(rows=none, start_date='2024-08-18', days=7) %}
{%- set rows = rows if rows is not none else var('click_log_rows', 200000) -%}
{%- set click_log = source('silver', 'click_log') -%}
{% call statement('create_click_log') %}
create schema if not exists {{ adapter.quote(click_log.schema) }};
drop table if exists {{ click_log }};
create table {{ click_log }} (
    event_id bigint not null,
    session_id varchar(50) not null,
    search_id varchar(64) not null,
    event_ts timestamp not null,
    document_id int not null,
    clinical_area_id int not null,
    query_text text
);
{% endcall %}
{% call statement('fill_click_log') %}
set jit = off;
insert into {{ click_log }}
with documents as (
    select
        document_id,
        clinical_area_id,
        row_number() over (partition by clinical_area_id order by document_id) - 1 as area_rank,
        count(*) over (partition by clinical_area_id) as area_size
    from {{ ref('documents') }}
),
clicks as materialized (
    select
        e,
        (e - 1) / 10 as s,
        (e - 1) % 10 as k,
        ('x' || substr(md5('cs' || ((e - 1) / 10)), 1, 8))::bit(32)::bigint as a1,
        ('x' || substr(md5('cs' || ((e - 1) / 10)), 9, 8))::bit(32)::bigint as a2,
        ('x' || substr(md5('cq' || ((e - 1) / 10) || '-' || ((e - 1) % 10) / 3), 1, 8))::bit(32)::bigint as q1,
        ('x' || substr(md5('ce' || e), 1, 8))::bit(32)::bigint as b1,
        ('x' || substr(md5('ce' || e), 9, 8))::bit(32)::bigint as b2
    from generate_series(1, {{ rows }}::bigint) as e
),
placed as (
    select
        c.*,
        1 + c.q1 % 10 as clinical_area_id,
        timestamp '{{ start_date }}'
            + make_interval(secs => c.a1 % ({{ days }} * 86400))
            + make_interval(secs => c.k * (20 + c.a2 % 200) + c.b1 % 20) as event_ts
    from clicks as c
)
select
    p.e as event_id,
    substr(md5('session' || p.s), 1, 24) as session_id,
    substr(md5('session' || p.s), 1, 24) || '-' || (p.k / 3) as search_id,
    p.event_ts,
    d.document_id,
    p.clinical_area_id,
    (array['treatment', 'diagnosis', 'guideline', 'children', 'risk factors'])[1 + p.q1 % 5] as query_text
from placed as p
join documents as d
    on d.clinical_area_id = p.clinical_area_id
    -- skewed: the product of two uniform ranks favours the first documents of the area
    and d.area_rank = ((p.b1 % d.area_size) * (p.b2 % d.area_size)) / d.area_size
{% endcall %}
{% set counted = run_query('select count(*) from ' ~ click_log) %}
{{ log('generated ' ~ counted.rows[0][0] ~ ' click log rows in ' ~ click_log, info=True) }}
{% do run_query('analyze ' ~ click_log) %}
{% endmacro %}

{#- Relations derived from a model's relation, and relation look-ups and drops. -#}

{#- Same place, identifier + suffix. -#}
{% macro make_intermediate_relation(base_relation, suffix='__dbt_tmp') -%}
    {{ return(adapter.dispatch('make_intermediate_relation', 'dbt')(base_relation, suffix)) }}
{%- endmacro %}

{% macro default__make_intermediate_relation(base_relation, suffix) -%}
    {{ return(dbt.default__make_temp_relation(base_relation, suffix)) }}
{%- endmacro %}

{% macro postgres__make_intermediate_relation(base_relation, suffix) -%}
    {{ return(dbt.postgres__make_relation_with_suffix(base_relation, suffix, dstring=false)) }}
{%- endmacro %}

{#- A relation for temporary data. A microbatch batch gets its own, so that batches running
    together do not overwrite each other's. -#}
{% macro make_temp_relation(base_relation, suffix='__dbt_tmp') -%}
    {%- if suffix == '__dbt_tmp' and model is defined and model.batch -%}
        {%- set suffix = suffix ~ '_' ~ model.batch.id -%}
    {%- endif -%}
    {{ return(adapter.dispatch('make_temp_relation', 'dbt')(base_relation, suffix)) }}
{%- endmacro %}

{% macro default__make_temp_relation(base_relation, suffix) -%}
    {{ return(base_relation.incorporate(path={'identifier': base_relation.identifier ~ suffix})) }}
{%- endmacro %}

{#- PostgreSQL: a session temporary table has no schema or database, and its name carries the
    time of day so that two runs in one session do not collide. -#}
{% macro postgres__make_temp_relation(base_relation, suffix) -%}
    {%- set temp_relation = dbt.postgres__make_relation_with_suffix(base_relation, suffix, dstring=true) -%}
    {{ return(temp_relation.incorporate(path={'schema': none, 'database': none})) }}
{%- endmacro %}

{#- Where the old relation is moved aside while its replacement is built. -#}
{% macro make_backup_relation(base_relation, backup_relation_type, suffix='__dbt_backup') -%}
    {{ return(adapter.dispatch('make_backup_relation', 'dbt')(base_relation, backup_relation_type, suffix)) }}
{%- endmacro %}

{% macro default__make_backup_relation(base_relation, backup_relation_type, suffix) -%}
    {{ return(base_relation.incorporate(path={'identifier': base_relation.identifier ~ suffix}, type=backup_relation_type)) }}
{%- endmacro %}

{% macro postgres__make_backup_relation(base_relation, backup_relation_type, suffix) -%}
    {%- set backup_relation = dbt.postgres__make_relation_with_suffix(base_relation, suffix, dstring=false) -%}
    {{ return(backup_relation.incorporate(type=backup_relation_type)) }}
{%- endmacro %}

{#- PostgreSQL cuts identifiers at 63 characters: the base name is shortened so that the
    suffix (and, with dstring, an HHMMSSffffff time) always survives. -#}
{% macro postgres__make_relation_with_suffix(base_relation, suffix, dstring) -%}
    {%- if dstring -%}
        {%- set suffix = suffix ~ modules.datetime.datetime.now().strftime('%H%M%S%f') -%}
    {%- endif -%}
    {%- set max_length = 63 -%}
    {%- if suffix | length > max_length -%}
        {{ exceptions.raise_compiler_error('Relation suffix is too long (' ~ (suffix | length) ~ ' characters). Maximum length is ' ~ max_length ~ ' characters.') }}
    {%- endif -%}
    {%- set identifier = base_relation.identifier[:max_length - (suffix | length)] ~ suffix -%}
    {{ return(base_relation.incorporate(path={'identifier': identifier})) }}
{%- endmacro %}

{#- The relation as it exists in the database now, or none. -#}
{% macro load_cached_relation(relation) -%}
    {{ return(adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier)) }}
{%- endmacro %}

{#- The older name of load_cached_relation. -#}
{% macro load_relation(relation) -%}
    {{ return(load_cached_relation(relation)) }}
{%- endmacro %}

{#- [found, relation]: the existing relation, or a new one of the given type. -#}
{% macro get_or_create_relation(database, schema, identifier, type) -%}
    {{ return(adapter.dispatch('get_or_create_relation', 'dbt')(database, schema, identifier, type)) }}
{%- endmacro %}

{% macro default__get_or_create_relation(database, schema, identifier, type) -%}
    {%- set existing = adapter.get_relation(database=database, schema=schema, identifier=identifier) -%}
    {%- if existing -%}
        {{ return([true, existing]) }}
    {%- else -%}
        {{ return([false, api.Relation.create(database=database, schema=schema, identifier=identifier, type=type)]) }}
    {%- endif -%}
{%- endmacro %}

{#- The statement that drops a relation of a known type, and whatever depends on it. -#}
{% macro get_drop_sql(relation) -%}
    {{- log('Applying DROP to: ' ~ relation) -}}
    {{- adapter.dispatch('get_drop_sql', 'dbt')(relation) -}}
{%- endmacro %}

{% macro default__get_drop_sql(relation) -%}
    {%- if relation.type is none -%}
        {{ exceptions.raise_compiler_error('cannot drop ' ~ relation ~ ': its type (table, view, materialized_view) is not known') }}
    {%- elif relation.type == 'materialized_view' -%}
        drop materialized view if exists {{ relation.render() }} cascade
    {%- else -%}
        drop {{ relation.type }} if exists {{ relation.render() }} cascade
    {%- endif -%}
{%- endmacro %}

{% macro drop_relation(relation) -%}
    {{ return(adapter.dispatch('drop_relation', 'dbt')(relation)) }}
{%- endmacro %}

{% macro default__drop_relation(relation) -%}
    {%- call statement('drop_relation', auto_begin=False) -%}
        {{ get_drop_sql(relation) }}
    {%- endcall -%}
{%- endmacro %}

{#- Drops the relation when there is one (a relation from load_relation may be none). -#}
{% macro drop_relation_if_exists(relation) -%}
    {%- if relation is not none -%}
        {{ drop_relation(relation) }}
    {%- endif -%}
{%- endmacro %}

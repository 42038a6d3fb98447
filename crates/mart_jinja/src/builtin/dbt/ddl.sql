{#- create table/view ... as (select), as dbt-postgres writes them. Model contracts
    (contract: {enforced: true}) are not supported by these macros yet and are an error. -#}

{% macro get_create_table_as_sql(temporary, relation, sql) -%}
    {{ adapter.dispatch('get_create_table_as_sql', 'dbt')(temporary, relation, sql) }}
{%- endmacro %}

{% macro default__get_create_table_as_sql(temporary, relation, sql) -%}
    {{ return(create_table_as(temporary, relation, sql)) }}
{%- endmacro %}

{#- The older name; compiled_code is SQL (the only language mart runs). -#}
{% macro create_table_as(temporary, relation, compiled_code, language='sql') -%}
    {%- if language != 'sql' -%}
        {{ exceptions.raise_compiler_error('create_table_as: only language "sql" is supported, got "' ~ language ~ '"') }}
    {%- endif -%}
    {{ adapter.dispatch('create_table_as', 'dbt')(temporary, relation, compiled_code) }}
{%- endmacro %}

{% macro default__create_table_as(temporary, relation, sql) -%}
    {%- if not temporary -%}
        {{ dbt._refuse_enforced_contract('create_table_as') }}
    {%- endif -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {{ sql_header if sql_header is not none }}
    create {% if temporary %}temporary {% endif %}table {{ relation.include(database=(not temporary), schema=(not temporary)) }}
    as (
        {{ sql }}
    );
{%- endmacro %}

{#- PostgreSQL: a table may be unlogged (config unlogged: true), and a temporary relation
    renders without schema already (see make_temp_relation). -#}
{% macro postgres__create_table_as(temporary, relation, sql) -%}
    {{ dbt._refuse_enforced_contract('create_table_as') }}
    {%- set unlogged = config.get('unlogged', default=false) -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {{ sql_header if sql_header is not none }}
    create {% if temporary %}temporary {% elif unlogged %}unlogged {% endif %}table {{ relation }}
    as (
        {{ sql }}
    );
{%- endmacro %}

{% macro get_create_view_as_sql(relation, sql) -%}
    {{ adapter.dispatch('get_create_view_as_sql', 'dbt')(relation, sql) }}
{%- endmacro %}

{% macro default__get_create_view_as_sql(relation, sql) -%}
    {{ return(create_view_as(relation, sql)) }}
{%- endmacro %}

{#- The older name. -#}
{% macro create_view_as(relation, sql) -%}
    {{ adapter.dispatch('create_view_as', 'dbt')(relation, sql) }}
{%- endmacro %}

{% macro default__create_view_as(relation, sql) -%}
    {{ dbt._refuse_enforced_contract('create_view_as') }}
    {%- set sql_header = config.get('sql_header', none) -%}
    {{ sql_header if sql_header is not none }}
    create view {{ relation.render() }}
    as (
        {{ sql }}
    );
{%- endmacro %}

{#- dbt checks an enforced contract's columns (and writes them out for a table); mart cannot
    yet, and says so rather than build the relation unchecked. -#}
{% macro _refuse_enforced_contract(macro_name) -%}
    {%- set contract_config = config.get('contract') -%}
    {%- if contract_config and contract_config.enforced -%}
        {{ exceptions.raise_compiler_error(macro_name ~ ': model contracts (contract.enforced: true) are not supported yet; remove the contract config or set enforced: false') }}
    {%- endif -%}
{%- endmacro %}

{#- Column introspection through a query. -#}

{#- A query with select_sql's columns and no rows, that the database plans without reading data. -#}
{% macro get_empty_subquery_sql(select_sql, select_sql_header=none) -%}
    {{ return(adapter.dispatch('get_empty_subquery_sql', 'dbt')(select_sql, select_sql_header)) }}
{%- endmacro %}

{% macro default__get_empty_subquery_sql(select_sql, select_sql_header=none) -%}
    {%- if select_sql_header is not none -%}
    {{ select_sql_header }}
    {% endif -%}
    select * from (
        {{ select_sql }}
    ) as __dbt_sbq
    where false
    limit 0
{%- endmacro %}

{#- The column names select_sql returns, in order, found by running it empty. -#}
{% macro get_columns_in_query(select_sql) -%}
    {{ return(adapter.dispatch('get_columns_in_query', 'dbt')(select_sql)) }}
{%- endmacro %}

{% macro default__get_columns_in_query(select_sql) -%}
    {%- call statement('get_columns_in_query', fetch_result=True, auto_begin=False) -%}
        {{ get_empty_subquery_sql(select_sql) }}
    {%- endcall -%}
    {{ return(load_result('get_columns_in_query').table.columns | map(attribute='name') | list) }}
{%- endmacro %}

{#- The names of a list of columns. -#}
{% macro get_list_of_column_names(columns) -%}
    {{ return(columns | map(attribute='name') | list) }}
{%- endmacro %}

{#- Casts. PostgreSQL has no cast that yields null on failure, so safe_cast is a plain cast,
    as in dbt-postgres. -#}

{% macro cast(field, type) -%}
    {{ return(adapter.dispatch('cast', 'dbt')(field, type)) }}
{%- endmacro %}

{% macro default__cast(field, type) -%}
    cast({{ field }} as {{ type }})
{%- endmacro %}

{% macro safe_cast(field, type) -%}
    {{ return(adapter.dispatch('safe_cast', 'dbt')(field, type)) }}
{%- endmacro %}

{% macro default__safe_cast(field, type) -%}
    cast({{ field }} as {{ type }})
{%- endmacro %}

{#- dbt renders this one's dispatch result directly rather than returning it. -#}
{% macro cast_bool_to_text(field) -%}
    {{ adapter.dispatch('cast_bool_to_text', 'dbt')(field) }}
{%- endmacro %}

{% macro default__cast_bool_to_text(field) -%}
    cast({{ field }} as TEXT)
{%- endmacro %}

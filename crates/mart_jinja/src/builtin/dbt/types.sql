{#- dbt's data type macros. The default forms give what dbt-adapters' Column.translate_type
    (which only maps "string" to TEXT) and Column.numeric_type produce on PostgreSQL. -#}

{% macro type_string() -%}
    {{ return(adapter.dispatch('type_string', 'dbt')()) }}
{%- endmacro %}

{% macro default__type_string() -%}
    {{ return('TEXT') }}
{%- endmacro %}

{% macro type_timestamp() -%}
    {{ return(adapter.dispatch('type_timestamp', 'dbt')()) }}
{%- endmacro %}

{% macro default__type_timestamp() -%}
    {{ return('timestamp') }}
{%- endmacro %}

{% macro type_float() -%}
    {{ return(adapter.dispatch('type_float', 'dbt')()) }}
{%- endmacro %}

{% macro default__type_float() -%}
    {{ return('float') }}
{%- endmacro %}

{#- numeric carries a fixed precision and scale so that values are not coerced to integers. -#}
{% macro type_numeric() -%}
    {{ return(adapter.dispatch('type_numeric', 'dbt')()) }}
{%- endmacro %}

{% macro default__type_numeric() -%}
    {{ return('numeric(28,6)') }}
{%- endmacro %}

{% macro type_bigint() -%}
    {{ return(adapter.dispatch('type_bigint', 'dbt')()) }}
{%- endmacro %}

{% macro default__type_bigint() -%}
    {{ return('bigint') }}
{%- endmacro %}

{% macro type_int() -%}
    {{ return(adapter.dispatch('type_int', 'dbt')()) }}
{%- endmacro %}

{% macro default__type_int() -%}
    {{ return('integer') }}
{%- endmacro %}

{% macro type_boolean() -%}
    {{ return(adapter.dispatch('type_boolean', 'dbt')()) }}
{%- endmacro %}

{% macro default__type_boolean() -%}
    {{ return('boolean') }}
{%- endmacro %}

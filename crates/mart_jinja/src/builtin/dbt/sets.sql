{#- Set operators and null-aware comparison. -#}

{% macro intersect() -%}
    {{ return(adapter.dispatch('intersect', 'dbt')()) }}
{%- endmacro %}

{% macro default__intersect() -%}
    intersect
{%- endmacro %}

{% macro except() -%}
    {{ return(adapter.dispatch('except', 'dbt')()) }}
{%- endmacro %}

{% macro default__except() -%}
    except
{%- endmacro %}

{#- Plain equality, as dbt-postgres gives it while the behaviour flag
    enable_truthy_nulls_equals_macro is off (its default); with the flag on, two nulls
    compare equal. -#}
{% macro equals(expr1, expr2) -%}
    {{ return(adapter.dispatch('equals', 'dbt')(expr1, expr2)) }}
{%- endmacro %}

{% macro default__equals(expr1, expr2) -%}
    {%- if dbt._truthy_nulls_equals() -%}
    case when (({{ expr1 }} = {{ expr2 }}) or ({{ expr1 }} is null and {{ expr2 }} is null))
        then 0
        else 1
    end = 0
    {%- else -%}
    ({{ expr1 }} = {{ expr2 }})
    {%- endif -%}
{%- endmacro %}

{% macro postgres__equals(expr1, expr2) -%}
    {%- if dbt._truthy_nulls_equals() -%}
    ({{ expr1 }} IS NOT DISTINCT FROM {{ expr2 }})
    {%- else -%}
    ({{ expr1 }} = {{ expr2 }})
    {%- endif -%}
{%- endmacro %}

{#- Whether the project turned on the enable_truthy_nulls_equals_macro behaviour flag
    (flags: in dbt_project.yml); off when the adapter exposes no behaviour flags. -#}
{% macro _truthy_nulls_equals() -%}
    {%- if adapter.behavior is defined and adapter.behavior.enable_truthy_nulls_equals_macro is defined -%}
        {{ return(adapter.behavior.enable_truthy_nulls_equals_macro.no_warn) }}
    {%- else -%}
        {{ return(false) }}
    {%- endif -%}
{%- endmacro %}

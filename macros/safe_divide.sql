{#- Divides numerator by denominator as numeric; NULL (instead of an error) when the
    denominator is 0. Both arguments are SQL expressions. -#}
{% macro safe_divide(numerator, denominator) -%}
    (({{ numerator }})::numeric / NULLIF(({{ denominator }}), 0))
{%- endmacro %}

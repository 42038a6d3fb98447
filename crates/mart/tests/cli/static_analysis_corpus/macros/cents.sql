{% macro to_cents(column) %}round({{ column }} * 100)::bigint{% endmacro %}

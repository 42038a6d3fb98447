{#- String functions. Every argument is a SQL expression (a column, or a quoted literal such
    as "'-'"), except in string_literal and escape_single_quotes, which take Jinja text. -#}

{% macro concat(fields) -%}
    {{ return(adapter.dispatch('concat', 'dbt')(fields)) }}
{%- endmacro %}

{% macro default__concat(fields) -%}
    {{ fields | join(' || ') }}
{%- endmacro %}

{#- An MD5 of the expression as text. -#}
{% macro hash(field) -%}
    {{ return(adapter.dispatch('hash', 'dbt')(field)) }}
{%- endmacro %}

{% macro default__hash(field) -%}
    md5(cast({{ field }} as TEXT))
{%- endmacro %}

{% macro length(expression) -%}
    {{ return(adapter.dispatch('length', 'dbt')(expression)) }}
{%- endmacro %}

{% macro default__length(expression) -%}
    length(
        {{ expression }}
    )
{%- endmacro %}

{#- The 1-based position of substring_text in string_text, 0 when absent. -#}
{% macro position(substring_text, string_text) -%}
    {{ return(adapter.dispatch('position', 'dbt')(substring_text, string_text)) }}
{%- endmacro %}

{% macro default__position(substring_text, string_text) -%}
    position(
        {{ substring_text }} in {{ string_text }}
    )
{%- endmacro %}

{% macro replace(field, old_chars, new_chars) -%}
    {{ return(adapter.dispatch('replace', 'dbt')(field, old_chars, new_chars)) }}
{%- endmacro %}

{% macro default__replace(field, old_chars, new_chars) -%}
    replace(
        {{ field }},
        {{ old_chars }},
        {{ new_chars }}
    )
{%- endmacro %}

{% macro right(string_text, length_expression) -%}
    {{ return(adapter.dispatch('right', 'dbt')(string_text, length_expression)) }}
{%- endmacro %}

{% macro default__right(string_text, length_expression) -%}
    right(
        {{ string_text }},
        {{ length_expression }}
    )
{%- endmacro %}

{#- The part_number-th piece of string_text cut at delimiter_text, counting from 1; a negative
    number counts from the end (-1 is the last piece). -#}
{% macro split_part(string_text, delimiter_text, part_number) -%}
    {{ return(adapter.dispatch('split_part', 'dbt')(string_text, delimiter_text, part_number)) }}
{%- endmacro %}

{% macro default__split_part(string_text, delimiter_text, part_number) -%}
    split_part(
        {{ string_text }},
        {{ delimiter_text }},
        {{ part_number }}
    )
{%- endmacro %}

{#- Counting from the end, as dbt-postgres does: the number of delimiters (the length lost when
    they are removed, so a one-character delimiter) plus two, plus the negative part number. -#}
{% macro _split_part_negative(string_text, delimiter_text, part_number) -%}
    split_part(
        {{ string_text }},
        {{ delimiter_text }},
        length({{ string_text }}) - length(replace({{ string_text }}, {{ delimiter_text }}, '')) + 2 + {{ part_number }}
    )
{%- endmacro %}

{% macro postgres__split_part(string_text, delimiter_text, part_number) -%}
    {%- if part_number >= 0 -%}
        {{ dbt.default__split_part(string_text, delimiter_text, part_number) }}
    {%- else -%}
        {{ dbt._split_part_negative(string_text, delimiter_text, part_number) }}
    {%- endif -%}
{%- endmacro %}

{#- Jinja text to a SQL string literal, as given (quotes inside are not escaped). -#}
{% macro string_literal(value) -%}
    {{ return(adapter.dispatch('string_literal', 'dbt')(value)) }}
{%- endmacro %}

{% macro default__string_literal(value) -%}
    '{{ value }}'
{%- endmacro %}

{#- Doubles each single quote of Jinja text, for use inside a SQL string literal. -#}
{% macro escape_single_quotes(expression) -%}
    {{ return(adapter.dispatch('escape_single_quotes', 'dbt')(expression)) }}
{%- endmacro %}

{% macro default__escape_single_quotes(expression) -%}
    {{ expression | replace("'", "''") }}
{%- endmacro %}

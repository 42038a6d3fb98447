{#- Configuration helpers for materializations and tests: a node's config wins over the
    command-line flag. -#}

{#- The model's full_refresh config when set, else the --full-refresh flag. -#}
{% macro should_full_refresh() -%}
    {%- set config_full_refresh = config.get('full_refresh') -%}
    {%- if config_full_refresh is none -%}
        {%- set config_full_refresh = flags.FULL_REFRESH -%}
    {%- endif -%}
    {{ return(config_full_refresh) }}
{%- endmacro %}

{#- The test's store_failures config when set, else the --store-failures flag. -#}
{% macro should_store_failures() -%}
    {%- set config_store_failures = config.get('store_failures') -%}
    {%- if config_store_failures is none -%}
        {%- set config_store_failures = flags.STORE_FAILURES -%}
    {%- endif -%}
    {{ return(config_store_failures) }}
{%- endmacro %}

{#- `{% call set_sql_header(config) %} ... {% endcall %}`: SQL that runs before the
    model's create statement, in the same session. -#}
{% macro set_sql_header(config) -%}
    {{ config.set('sql_header', caller()) }}
{%- endmacro %}

{#- Configuration helpers for materializations and incremental models. -#}

{#- The model's full_refresh config when set, else the --full-refresh flag. -#}
{% macro should_full_refresh() -%}
    {%- set config_full_refresh = config.get('full_refresh') -%}
    {%- if config_full_refresh is none -%}
        {%- set config_full_refresh = flags.FULL_REFRESH -%}
    {%- endif -%}
    {{ return(config_full_refresh) }}
{%- endmacro %}

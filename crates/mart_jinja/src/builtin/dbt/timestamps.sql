{#- The current time, as dbt-postgres writes it. -#}

{% macro current_timestamp() -%}
    {{ adapter.dispatch('current_timestamp', 'dbt')() }}
{%- endmacro %}

{% macro default__current_timestamp() -%}
    {{ exceptions.raise_compiler_error('current_timestamp macro not implemented for this adapter') }}
{%- endmacro %}

{% macro postgres__current_timestamp() -%}
    now()
{%- endmacro %}

{#- Snapshots record their time without a time zone. -#}
{% macro snapshot_get_time() -%}
    {{ adapter.dispatch('snapshot_get_time', 'dbt')() }}
{%- endmacro %}

{% macro default__snapshot_get_time() -%}
    {{ current_timestamp() }}
{%- endmacro %}

{% macro postgres__snapshot_get_time() -%}
    {{ current_timestamp() }}::timestamp without time zone
{%- endmacro %}

{#- Deprecated in dbt, kept for packages that relied on dbt_utils.current_timestamp(). -#}
{% macro current_timestamp_backcompat() -%}
    {{ return(adapter.dispatch('current_timestamp_backcompat', 'dbt')()) }}
{%- endmacro %}

{% macro default__current_timestamp_backcompat() -%}
    current_timestamp::timestamp
{%- endmacro %}

{% macro postgres__current_timestamp_backcompat() -%}
    current_timestamp::{{ type_timestamp() }}
{%- endmacro %}

{% macro current_timestamp_in_utc_backcompat() -%}
    {{ return(adapter.dispatch('current_timestamp_in_utc_backcompat', 'dbt')()) }}
{%- endmacro %}

{% macro default__current_timestamp_in_utc_backcompat() -%}
    {{ return(adapter.dispatch('current_timestamp_backcompat', 'dbt')()) }}
{%- endmacro %}

{% macro postgres__current_timestamp_in_utc_backcompat() -%}
    (current_timestamp at time zone 'utc')::{{ type_timestamp() }}
{%- endmacro %}

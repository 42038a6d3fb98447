{#- Number and date series, built from cross joins so that they need no set-returning function. -#}

{#- The smallest n >= 1 with 2^n >= upper_bound. -#}
{% macro get_powers_of_two(upper_bound) -%}
    {{ return(adapter.dispatch('get_powers_of_two', 'dbt')(upper_bound)) }}
{%- endmacro %}

{% macro default__get_powers_of_two(upper_bound) -%}
    {%- if upper_bound <= 0 -%}
        {{ exceptions.raise_compiler_error('upper bound must be positive') }}
    {%- endif -%}
    {%- set found = namespace(n=none) -%}
    {%- for n in range(1, 100) -%}
        {%- if found.n is none and upper_bound <= 2 ** n -%}
            {%- set found.n = n -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found.n) }}
{%- endmacro %}

{#- A query with one column, generated_number, holding 1 to upper_bound in order: each of n
    cross-joined copies of {0, 1} contributes one binary digit. -#}
{% macro generate_series(upper_bound) -%}
    {{ return(adapter.dispatch('generate_series', 'dbt')(upper_bound)) }}
{%- endmacro %}

{% macro default__generate_series(upper_bound) -%}
    {%- set n = dbt.get_powers_of_two(upper_bound) %}
    with p as (
        select 0 as generated_number union all select 1
    ), unioned as (
        select
        {% for i in range(n) -%}
            p{{ i }}.generated_number * power(2, {{ i }}){% if not loop.last %} + {% endif %}
        {% endfor -%}
        + 1 as generated_number
        from
        {% for i in range(n) -%}
            p as p{{ i }}{% if not loop.last %} cross join {% endif %}
        {% endfor %}
    )
    select *
    from unioned
    where generated_number <= {{ upper_bound }}
    order by generated_number
{%- endmacro %}

{#- The datediff between two SQL date expressions, computed by the database now; 1 when the
    query returns nothing. -#}
{% macro get_intervals_between(start_date, end_date, datepart) -%}
    {{ return(adapter.dispatch('get_intervals_between', 'dbt')(start_date, end_date, datepart)) }}
{%- endmacro %}

{% macro default__get_intervals_between(start_date, end_date, datepart) -%}
    {%- call statement('get_intervals_between', fetch_result=True) -%}
        select {{ dbt.datediff(start_date, end_date, datepart) }}
    {%- endcall -%}
    {%- set result = load_result('get_intervals_between') -%}
    {%- if result and result['data'] -%}
        {{ return(result['data'][0][0]) }}
    {%- else -%}
        {{ return(1) }}
    {%- endif -%}
{%- endmacro %}

{#- A query with one column, date_<datepart>, holding every datepart step from start_date up
    to but excluding end_date (both SQL expressions). -#}
{% macro date_spine(datepart, start_date, end_date) -%}
    {{ return(adapter.dispatch('date_spine', 'dbt')(datepart, start_date, end_date)) }}
{%- endmacro %}

{% macro default__date_spine(datepart, start_date, end_date) %}
    with rawdata as (
        {{ dbt.generate_series(dbt.get_intervals_between(start_date, end_date, datepart)) }}
    ),
    all_periods as (
        select (
            {{ dbt.dateadd(datepart, 'row_number() over (order by 1) - 1', start_date) }}
        ) as date_{{ datepart }}
        from rawdata
    ),
    filtered as (
        select *
        from all_periods
        where date_{{ datepart }} <= {{ end_date }}
    )
    select * from filtered
{% endmacro %}

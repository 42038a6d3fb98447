{#- Date and time arithmetic. The datepart is a bare word (day, month, ...) spliced into SQL. -#}

{% macro dateadd(datepart, interval, from_date_or_timestamp) -%}
    {{ return(adapter.dispatch('dateadd', 'dbt')(datepart, interval, from_date_or_timestamp)) }}
{%- endmacro %}

{% macro default__dateadd(datepart, interval, from_date_or_timestamp) -%}
    dateadd(
        {{ datepart }},
        {{ interval }},
        {{ from_date_or_timestamp }}
    )
{%- endmacro %}

{#- A one-unit interval scaled by the count, so that the count may be any SQL expression. -#}
{% macro postgres__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {{ from_date_or_timestamp }} + ((interval '1 {{ datepart }}') * ({{ interval }}))
{%- endmacro %}

{% macro datediff(first_date, second_date, datepart) -%}
    {{ return(adapter.dispatch('datediff', 'dbt')(first_date, second_date, datepart)) }}
{%- endmacro %}

{% macro default__datediff(first_date, second_date, datepart) -%}
    datediff(
        {{ datepart }},
        {{ first_date }},
        {{ second_date }}
    )
{%- endmacro %}

{#- PostgreSQL has no datediff: count boundaries crossed, as other warehouses do. Coarse parts
    compare calendar fields of the dates; week counts whole weeks plus one when the second
    date's weekday is earlier than the first's (Sunday-based); time parts build on the next
    coarser part plus the difference of their own field. -#}
{% macro postgres__datediff(first_date, second_date, datepart) -%}
    {%- set a = '(' ~ first_date ~ ')' -%}
    {%- set b = '(' ~ second_date ~ ')' -%}
    {%- if datepart == 'year' -%}
        (date_part('year', {{ b }}::date) - date_part('year', {{ a }}::date))
    {%- elif datepart == 'quarter' -%}
        ({{ datediff(first_date, second_date, 'year') }} * 4 + date_part('quarter', {{ b }}::date) - date_part('quarter', {{ a }}::date))
    {%- elif datepart == 'month' -%}
        ({{ datediff(first_date, second_date, 'year') }} * 12 + date_part('month', {{ b }}::date) - date_part('month', {{ a }}::date))
    {%- elif datepart == 'day' -%}
        ({{ b }}::date - {{ a }}::date)
    {%- elif datepart == 'week' -%}
        ({{ datediff(first_date, second_date, 'day') }} / 7 + case
            when date_part('dow', {{ a }}::timestamp) <= date_part('dow', {{ b }}::timestamp)
                then case when {{ first_date }} <= {{ second_date }} then 0 else -1 end
            else case when {{ first_date }} <= {{ second_date }} then 1 else 0 end
        end)
    {%- elif datepart == 'hour' -%}
        ({{ datediff(first_date, second_date, 'day') }} * 24 + date_part('hour', {{ b }}::timestamp) - date_part('hour', {{ a }}::timestamp))
    {%- elif datepart == 'minute' -%}
        ({{ datediff(first_date, second_date, 'hour') }} * 60 + date_part('minute', {{ b }}::timestamp) - date_part('minute', {{ a }}::timestamp))
    {%- elif datepart == 'second' -%}
        ({{ datediff(first_date, second_date, 'minute') }} * 60 + floor(date_part('second', {{ b }}::timestamp)) - floor(date_part('second', {{ a }}::timestamp)))
    {%- elif datepart == 'millisecond' -%}
        ({{ datediff(first_date, second_date, 'minute') }} * 60000 + floor(date_part('millisecond', {{ b }}::timestamp)) - floor(date_part('millisecond', {{ a }}::timestamp)))
    {%- elif datepart == 'microsecond' -%}
        ({{ datediff(first_date, second_date, 'minute') }} * 60000000 + floor(date_part('microsecond', {{ b }}::timestamp)) - floor(date_part('microsecond', {{ a }}::timestamp)))
    {%- else -%}
        {{ exceptions.raise_compiler_error("Unsupported datepart for macro datediff in postgres: '" ~ datepart ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{% macro date_trunc(datepart, date) -%}
    {{ return(adapter.dispatch('date_trunc', 'dbt')(datepart, date)) }}
{%- endmacro %}

{% macro default__date_trunc(datepart, date) -%}
    date_trunc('{{ datepart }}', {{ date }})
{%- endmacro %}

{#- The last day of the datepart period holding date: the period's start, plus one period,
    minus one day. -#}
{% macro last_day(date, datepart) -%}
    {{ return(adapter.dispatch('last_day', 'dbt')(date, datepart)) }}
{%- endmacro %}

{% macro default_last_day(date, datepart) -%}
    cast(
        {{ dbt.dateadd('day', '-1', dbt.dateadd(datepart, '1', dbt.date_trunc(datepart, date))) }}
        as date)
{%- endmacro %}

{% macro default__last_day(date, datepart) -%}
    {{ dbt.default_last_day(date, datepart) }}
{%- endmacro %}

{#- PostgreSQL intervals have no quarter unit: a quarter is added as three months. -#}
{% macro postgres__last_day(date, datepart) -%}
    {%- if datepart == 'quarter' -%}
    cast(
        {{ dbt.dateadd('day', '-1', dbt.dateadd('month', '3', dbt.date_trunc(datepart, date))) }}
        as date)
    {%- else -%}
    {{ dbt.default_last_day(date, datepart) }}
    {%- endif -%}
{%- endmacro %}

{#- A date literal from Jinja integers; an impossible date is a compile error, as dbt's
    datetime.date(year, month, day) check makes it. -#}
{% macro date(year, month, day) -%}
    {{ return(adapter.dispatch('date', 'dbt')(year, month, day)) }}
{%- endmacro %}

{% macro default__date(year, month, day) -%}
    {%- if year is not integer or month is not integer or day is not integer -%}
        {{ exceptions.raise_compiler_error('dbt.date needs integer year, month and day, got ' ~ year ~ ', ' ~ month ~ ', ' ~ day) }}
    {%- endif -%}
    {%- set leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 -%}
    {%- set month_days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] -%}
    {%- if year < 1 or year > 9999 or month < 1 or month > 12 or day < 1 or day > month_days[month - 1] -%}
        {{ exceptions.raise_compiler_error('dbt.date: ' ~ year ~ '-' ~ month ~ '-' ~ day ~ ' is not a valid date') }}
    {%- endif -%}
    to_date('{{ ('000' ~ year)[-4:] }}-{{ ('0' ~ month)[-2:] }}-{{ ('0' ~ day)[-2:] }}', 'YYYY-MM-DD')
{%- endmacro %}

-- the second CTE misspells a column of the first
with base as (
    select user_id, country from {{ ref('stg_users') }}
),
by_country as (
    select countyr, count(*) as n from base group by 1
)
select * from by_country

-- a misspelt CTE name as the qualifier
with base as (select user_id from {{ ref('stg_users') }})
select bse.user_id from base

-- a misspelt column inside a CTE
with recent as (
    select user_id, signup_dat
    from {{ ref('stg_users') }}
)
select * from recent

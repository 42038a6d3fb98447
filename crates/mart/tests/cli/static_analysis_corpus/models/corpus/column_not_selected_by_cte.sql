-- the CTE does not select the column read from it
with contacts as (
    select user_id, email from {{ ref('stg_users') }}
)
select user_id, country from contacts

{{
  config(
    materialized = 'incremental',
    incremental_strategy = 'merge',
    unique_key = ['user_id', 'datestamp', 'item_id'],
    on_schema_change = 'fail'
  )
}}
-- The first run (and --full-refresh) builds the table; later runs reload the latest
-- loaded day and the newer ones, merged on the key, so a re-run changes nothing.
WITH src_user_event AS (
    SELECT * FROM {{ ref("src_user_event") }}
)
SELECT
    user_id,
    datestamp,
    item_id,
    clicked,
    purchased,
    paidamount
FROM
    src_user_event
WHERE datestamp is not NULL
{% if is_incremental() %}
    AND datestamp >= (SELECT max(datestamp) from {{ this }})
{% endif %}

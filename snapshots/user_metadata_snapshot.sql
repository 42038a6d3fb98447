{% snapshot user_metadata_snapshot %}
{{
  config(
    schema = 'snapshots',
    unique_key = 'user_id',
    strategy = 'timestamp',
    updated_at = 'updated_at',
    hard_deletes = 'invalidate'
  )
}}
-- SCD type 2 history of user metadata: a user whose age band or gender changes (with a
-- newer updated_at) gets a new version; the old one is closed with dbt_valid_to.
SELECT
  user_id,
  age,
  gender,
  updated_at
FROM {{ ref('user_metadata') }}
{% endsnapshot %}

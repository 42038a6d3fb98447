-- a misspelt column of a source table (the catalog gives its columns)
select event_id, knd
from {{ source('app', 'events') }}

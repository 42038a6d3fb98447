-- (valid) PostgreSQL reads this, mart's SQL parser does not: a note, and it builds
select xmlelement(name account, user_name) as account_xml
from {{ ref('stg_users') }}

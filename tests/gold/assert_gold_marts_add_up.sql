-- The marts agree with each other: each day's total events equal the day's document
-- views and the day's session clicks, and a session lasts from its first to its last click.
with traffic as (
    select event_date, total_events from {{ ref('mart_daily_traffic') }}
),

views as (
    select event_date, sum(view_count) as views from {{ ref('mart_popular_documents') }} group by event_date
),

clicks as (
    select event_date, sum(click_count) as clicks from {{ ref('mart_session_analysis') }} group by event_date
)

select t.event_date, 'daily totals disagree' as problem
from traffic as t
left join views as v on v.event_date = t.event_date
left join clicks as c on c.event_date = t.event_date
where v.views is distinct from t.total_events or c.clicks is distinct from t.total_events
union all
select s.event_date, 'bad session duration'
from {{ ref('mart_session_analysis') }} as s
where s.session_duration_sec <> extract(epoch from s.last_click_ts - s.first_click_ts)::int
   or s.session_duration_sec < 0
   or s.unique_docs > s.click_count

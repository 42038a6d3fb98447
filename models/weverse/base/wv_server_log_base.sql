{#
  The Weverse server log, preprocessed (WV 서버로그 전처리): one row per request with the
  request's KST day and hour, its device session and user session, the caller, the
  platform, and the values taken from the url, params and request.

  Incremental by KST day (date_id) with delete+insert: `--vars '{date_id: 2024-08-20}'`
  rebuilds exactly that day; without it an incremental run rebuilds the latest loaded day
  and adds every later one. Sessions are cut at KST midnight, so each day depends only on
  its own rows and a re-run reproduces it.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='date_id',
    on_schema_change='fail',
    indexes=[
        {'columns': ['date_id']},
        {'columns': ['user_sess_id']},
        {'columns': ['post_id']},
    ],
) }}
{%- set date_id = var('date_id', none) -%}
{%- set session_gap_minutes = var('session_gap_minutes', 30) -%}

with raw as (
    select
        l.unix_log_timestamp,
        timestamp 'epoch' + l.unix_log_timestamp * interval '1 millisecond' as log_dt,
        l.user_info,
        l.url,
        l.params,
        l.request,
        l.params::jsonb as p
    from {{ source('service_log', 'weverse_server_log') }} as l
    {%- if date_id is not none %}
    -- the KST day [date_id 00:00, +1 day) in UTC milliseconds
    where l.unix_log_timestamp >= extract(epoch from timestamp '{{ date_id }}' - interval '9 hours') * 1000
      and l.unix_log_timestamp < extract(epoch from timestamp '{{ date_id }}' + interval '15 hours') * 1000
    {%- elif is_incremental() %}
    where l.unix_log_timestamp >= (
        select coalesce(extract(epoch from max(date_id)::timestamp - interval '9 hours') * 1000, 0)
        from {{ this }}
    )
    {%- endif %}
),

parsed as (
    select
        r.*,
        to_char(r.log_dt + interval '9 hours', 'YYYY-MM-DD') as date_id,
        to_char(r.log_dt + interval '9 hours', 'HH24') as hour,
        r.user_info ->> 'id' as user_info_id,
        r.user_info ->> 'device_id' as user_info_device_id,
        r.user_info ->> 'user_agent' as user_agent,
        (r.p ->> '_request_body')::jsonb as body_json
    from raw as r
),

gaps as (
    select
        pa.*,
        -- a new device session after more than the gap without a request, or at KST midnight
        case
            when lag(pa.log_dt) over device_day is null
                or pa.log_dt - lag(pa.log_dt) over device_day > interval '{{ session_gap_minutes }} minutes'
            then 1 else 0
        end as is_sess_start
    from parsed as pa
    window device_day as (
        partition by pa.user_info_device_id, pa.date_id
        order by pa.unix_log_timestamp, pa.url, pa.params, pa.request
    )
),

numbered as (
    select
        g.*,
        sum(g.is_sess_start) over (
            partition by g.user_info_device_id, g.date_id
            order by g.unix_log_timestamp, g.url, g.params, g.request
            rows unbounded preceding
        ) as device_sess_no
    from gaps as g
),

sessions as (
    select
        n.*,
        min(n.log_dt) over sess as sess_start_dt,
        max(n.log_dt) over sess as sess_end_dt,
        row_number() over (sess order by n.unix_log_timestamp, n.url, n.params, n.request) as sess_seq,
        -- logged-in requests seen so far in the session: a run of logged-out ones shares it
        count(n.user_info_id) over (sess order by n.unix_log_timestamp, n.url, n.params, n.request
            rows unbounded preceding) as login_run,
        first_value(n.user_info_id) over (sess order by n.user_info_id is null, n.unix_log_timestamp, n.url, n.params, n.request
            rows between unbounded preceding and unbounded following) as first_sess_user_id
    from numbered as n
    window sess as (partition by n.user_info_device_id, n.date_id, n.device_sess_no)
),

filled as (
    select
        s.*,
        to_char(s.sess_start_dt, 'YYYYMMDDHH24MISSMS') || '|' || s.user_info_device_id as sess_id,
        coalesce(
            s.user_info_id,
            first_value(s.user_info_id) over (
                partition by s.user_info_device_id, s.date_id, s.device_sess_no, s.login_run
                order by s.unix_log_timestamp, s.url, s.params, s.request
            ),
            s.first_sess_user_id
        ) as user_id_fill
    from sessions as s
),

user_sessions as (
    select
        f.*,
        f.sess_id || '|' || coalesce(f.user_id_fill, '') as user_sess_id
    from filled as f
)

select
    u.date_id::text as date_id,
    u.hour::text as hour,
    u.log_dt::timestamp as log_dt,
    (u.user_info ->> 'user_key')::text as user_info_user_key,
    u.sess_id::text as sess_id,
    u.sess_seq::bigint as sess_seq,
    u.sess_start_dt::timestamp as sess_start_dt,
    u.sess_end_dt::timestamp as sess_end_dt,
    u.user_sess_id::text as user_sess_id,
    min(u.log_dt) over user_sess::timestamp as user_sess_start_dt,
    max(u.log_dt) over user_sess::timestamp as user_sess_end_dt,
    u.user_info_id::text as user_info_id,
    u.user_info_device_id::text as user_info_device_id,
    (case
        when u.user_agent ~ '^Weverse/' then 'APP'
        when u.user_agent ~ 'Mobile' then 'MWEB'
        when u.user_agent is not null then 'WEB'
    end)::text as platform,
    (case
        when u.user_agent ~ 'Android' then 'ANDROID'
        when u.user_agent ~ 'iPhone|iPad|iOS' then 'IOS'
        when u.user_agent ~ 'Windows' then 'WINDOWS'
        when u.user_agent ~ 'Mac OS X' then 'MACOS'
        when u.user_agent is not null then 'OTHER'
    end)::text as os,
    substring(u.user_agent from '^Weverse/([0-9]+(?:\.[0-9]+)*)')::text as app_ver,
    u.user_id_fill::text as user_id_fill,
    (u.user_info ->> 'status')::text as user_info_status,
    (u.user_info ->> 'ip_address')::text as user_info_ip_address,
    (u.user_info ->> 'locale')::text as user_info_locale,
    (u.user_info ->> 'country')::text as user_info_country,
    (u.p ->> 'topic')::text as topic,
    coalesce(u.p ->> '_method', split_part(u.request, ' ', 1))::text as method,
    (u.p ->> '_gcc')::text as gcc,
    coalesce(u.p ->> 'language', substring(u.request from '[?&]language=([^& ]+)'))::text as language,
    (u.p ->> '_consumer_id')::text as consumer_id,
    (u.p ->> '_provider_id')::text as provider_id,
    (u.p ->> 'platformId')::text as platform_id,
    coalesce(u.p ->> 'wpf', substring(u.request from '[?&]wpf=([^& ]+)'))::text as wpf,
    (u.url ~ '/join$')::int as is_join,
    (u.url ~ '/leave$')::int as is_leave,
    coalesce(substring(u.url from 'post-([0-9]+-[0-9]+)'), u.p ->> 'postId')::text as post_id,
    coalesce(substring(u.url from 'community-([0-9]+)'), u.p ->> 'communityId')::text as comm_id,
    substring(u.url from 'notice-([0-9]+)')::text as notice_id,
    (u.body_json ->> 'body')::text as body,
    (u.p ->> 'mediaType')::text as media_type,
    (u.p ->> 'mediaTime')::text as media_time,
    (u.p ->> 'videoId')::text as video_id,
    (u.p ->> 'videoSessionId')::text as video_session_id,
    (u.body_json ->> 'sectionType')::text as section_type,
    (u.body_json ->> 'isProduct')::text as is_product,
    (u.body_json ->> 'isHideFromArtist')::text as is_hide_from_artist,
    (u.body_json ->> 'isFcOnly')::text as is_fc_only,
    (u.body_json ->> 'chatId')::text as chat_id,
    (case when jsonb_typeof(u.body_json -> 'messages') = 'array'
        then jsonb_array_length(u.body_json -> 'messages') end)::int as chat_msg_count,
    (u.body_json -> 'messages')::text as chat_msg_list,
    u.url::text as url,
    u.params::text as params,
    u.user_agent::text as user_info_user_agent,
    (now() at time zone 'UTC')::timestamp as run_timestamp
from user_sessions as u
window user_sess as (partition by u.user_sess_id)

{#
  Builds the raw Weverse server log, source('service_log', 'weverse_server_log'), inside
  PostgreSQL: `mart run-operation generate_server_log --args '{rows: 1000000}'`.

  Deterministic: every value comes from md5 hashes of the session and event numbers, never
  from random(), so the same arguments give the same rows. Run `mart seed` first: live
  sessions watch the lives of the wv_live seed and users are those of user_user.

  Event e (1..rows) belongs to session (e - 1) / 20 as its event (e - 1) % 20. A session is
  one device (4,200 devices; 3,600 belong to the 3,000 users, 600 never log in), starts at a
  hashed moment of the `days` KST days from `start_date` (live sessions start while their live
  is on air, or just after it ended) and steps 15-90 s between events. One session in seven
  (not live viewing) pauses 40 minutes after its 10th event (a new session under the 30-minute rule). Kinds:
  22% watch a live (join, chats, leave, join again, leave or just close the app; users who
  sign up during the demo watch the live they signed up in), 8% join a
  community, 4% leave one, the rest browse posts, comments, media, notices and searches.
  One logged-in session in ten logs in only at its 5th event, one in ten logs out at its
  17th: those events carry no user id (user_id_fill recovers it).
#}
{% macro generate_server_log(rows=none, start_date='2024-08-18', days=4) %}
{%- set rows = rows if rows is not none else var('server_log_rows', 1000000) -%}
{%- set log_table = source('service_log', 'weverse_server_log') -%}
{%- set lives = source('we_mart', 'wv_live') -%}
{%- set users = source('weverse2', 'user_user') -%}
{% call statement('create_server_log') %}
create schema if not exists {{ adapter.quote(log_table.schema) }};
drop table if exists {{ log_table }};
create table {{ log_table }} (
    unix_log_timestamp bigint not null,
    user_info jsonb not null,
    url text not null,
    params text,
    request text,
    produce_time timestamp not null
);
{% endcall %}
{% call statement('fill_server_log') %}
-- the plan is simple; compiling it with JIT costs more than it saves
set jit = off;
insert into {{ log_table }} (unix_log_timestamp, user_info, url, params, request, produce_time)
with lives as (
    select
        row_number() over (order by post_id) - 1 as live_no,
        post_id,
        video_id::text as video_id,
        comm_id,
        start_dt,
        coalesce(end_dt, start_dt + interval '90 minutes') as end_dt
    from {{ lives }}
),
live_count as (
    select count(*) as n from lives
),
hashed as (
    select
        e,
        (e - 1) / 20 as s,
        ((e - 1) % 20)::int as k,
        md5('s' || ((e - 1) / 20)) as hs,
        md5('e' || e) as he
    from generate_series(1, {{ rows }}::bigint) as e
),
-- materialized: inlined, every use of a hash column would recompute its md5
rnd as materialized (
    select
        e, s, k,
        ('x' || substr(hs, 1, 8))::bit(32)::bigint as a1,
        ('x' || substr(hs, 9, 8))::bit(32)::bigint as a2,
        ('x' || substr(hs, 17, 8))::bit(32)::bigint as a3,
        ('x' || substr(hs, 25, 8))::bit(32)::bigint as a4,
        ('x' || substr(he, 1, 8))::bit(32)::bigint as b1,
        ('x' || substr(he, 9, 8))::bit(32)::bigint as b2,
        ('x' || substr(he, 17, 8))::bit(32)::bigint as b3,
        ('x' || substr(he, 25, 8))::bit(32)::bigint as b4
    from hashed
),
sessions as (
    select
        r.*,
        case
            when a1 % 100 < 22 then 'live'
            when a1 % 100 < 30 then 'comm_join'
            when a1 % 100 < 34 then 'comm_leave'
            else 'browse'
        end as kind,
        1 + a3 % 4200 as device_no,
        15 + (a4 / 7) % 76 as step,
        -- live viewers keep the app open: only other sessions pause
        a1 % 7 = 3 and a1 % 100 >= 22 as pauses,
        (a3 / 5000) % 10 as login_pattern,
        101 + a2 % 8 as session_comm_id
    from rnd as r
),
placed as (
    select
        s.*,
        l.post_id as live_post_id,
        l.video_id as live_video_id,
        l.comm_id as live_comm_id,
        case
            when s.kind = 'live' and s.a4 % 10 = 0
                then l.end_dt + make_interval(secs => 60 + s.a2 % 1740)
            when s.kind = 'live'
                then l.start_dt + make_interval(secs => (s.a2 / 13)
                    % greatest(extract(epoch from l.end_dt - l.start_dt)::bigint - 900, 60))
            else timestamp '{{ start_date }}' - interval '9 hours'
                + make_interval(secs => s.a4 % ({{ days }} * 86400 - 2400))
        end as session_start,
        case when s.device_no <= 3600 then 1 + (s.device_no - 1) % 3000 end as user_no
    from sessions as s
    left join lives as l
        on s.kind = 'live'
        -- users who sign up during the demo (every 20th) watch the live they signed up in
        and l.live_no = case
            when s.device_no <= 3600 and (1 + (s.device_no - 1) % 3000) % 20 = 0
                then ((1 + (s.device_no - 1) % 3000) / 20) % (select n from live_count)
            else s.a2 % (select n from live_count)
        end
),
events as materialized (
    select
        p.*,
        p.session_start + make_interval(secs => p.k * p.step + p.b4 % p.step
            + case when p.pauses and p.k >= 10 then 2400 else 0 end)
            + make_interval(secs => (p.b3 % 1000) / 1000.0) as event_ts,
        p.user_no is not null
            and not (p.login_pattern = 0 and p.k < 4)
            and not (p.login_pattern = 1 and p.k >= 16) as logged_in,
        case
            when p.kind = 'live' and p.k in (1, 13) then 'live_join'
            when p.kind = 'live' and (p.k = 11 or (p.k = 18 and p.a2 % 3 <> 0)) then 'live_leave'
            when p.kind = 'live' and p.k between 2 and 10 and p.b1 % 3 = 0 then 'chat'
            when p.kind = 'live' then 'live_post'
            when p.kind = 'comm_join' and p.k = 6 then 'comm_join'
            when p.kind = 'comm_leave' and p.k = 9 then 'comm_leave'
            when p.b1 % 20 < 8 then 'post_view'
            when p.b1 % 20 < 10 then 'comment'
            when p.b1 % 20 < 12 then 'comm_home'
            when p.b1 % 20 = 12 then 'notice'
            when p.b1 % 20 < 15 then 'media'
            when p.b1 % 20 = 15 then 'post_write'
            when p.b1 % 20 = 16 then 'search'
            else 'notifications'
        end as action,
        case p.device_no % 10
            when 0 then 'android' when 1 then 'android' when 2 then 'android' when 3 then 'android'
            when 4 then 'ios' when 5 then 'ios' when 6 then 'ios'
            when 7 then 'pc' when 8 then 'pc'
            else 'mweb'
        end as device_kind,
        (array['2.14.0', '2.15.3', '2.16.1', '2.17.0'])[1 + (p.device_no / 10) % 4] as app_version,
        coalesce(u.country, (array['KR', 'JP', 'US', 'ID', 'TH'])[1 + p.device_no % 5]) as country
    from placed as p
    left join {{ users }} as u on u.id = p.user_no
),
described as (
    select
        ev.*,
        case ev.device_kind
            when 'android' then 'Weverse/' || ev.app_version || ' (Linux; Android ' || (12 + ev.device_no % 3) || '; SM-S91' || (ev.device_no % 9) || 'N) okhttp/4.12.0'
            when 'ios' then 'Weverse/' || ev.app_version || ' (iPhone; iOS 17.' || (ev.device_no % 6) || '; Scale/3.00)'
            when 'pc' then case when ev.device_no % 2 = 0
                then 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.0.0 Safari/537.36'
                else 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15' end
            else 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'
        end as user_agent,
        case ev.country when 'KR' then 'ko' when 'JP' then 'ja' when 'TH' then 'th' when 'ID' then 'id' else 'en' end as lang,
        case ev.device_kind when 'android' then 'APP' when 'ios' then 'APP' when 'pc' then 'PC' else 'MWEB' end as wpf,
        case ev.device_kind when 'android' then 'ANDROID' when 'ios' then 'IOS' else 'WEB' end as platform_id,
        '0-' || (146000000 + ev.b2 % 60000) as browse_post_id,
        case when ev.kind = 'live' then ev.live_comm_id else ev.session_comm_id end as comm_no
    from events as ev
),
shaped as (
    select
        d.*,
        case d.action
            when 'live_join' then '/video/v1.0/join'
            when 'live_leave' then '/video/v1.0/leave'
            when 'chat' then '/chat/v1.0/message'
            when 'live_post' then '/post/v1.0/post-' || d.live_post_id
            when 'comm_join' then '/member/v1.0/community-' || d.comm_no || '/join'
            when 'comm_leave' then '/member/v1.0/community-' || d.comm_no || '/leave'
            when 'post_view' then '/post/v1.0/post-' || d.browse_post_id
            when 'comment' then '/comment/v1.0/post-' || d.browse_post_id || '/comments'
            when 'comm_home' then '/community/v1.0/community-' || d.comm_no || '/home'
            when 'notice' then '/notice/v1.0/notice-' || (5000 + d.b2 % 400)
            when 'media' then '/media/v1.0/media-' || (70000 + d.b2 % 3000)
            when 'post_write' then '/post/v1.0/community-' || d.comm_no || '/posts'
            when 'search' then '/search/v1.0/community-' || d.comm_no || '/posts'
            else '/notification/v1.0/notifications'
        end as url,
        case when d.action in ('live_join', 'live_leave', 'chat', 'comm_join', 'comm_leave', 'comment', 'post_write') then 'POST'
             when d.action = 'notifications' and d.b2 % 5 = 0 then 'DELETE'
             else 'GET' end as http_method,
        case d.action
            when 'chat' then jsonb_build_object(
                'chatId', 'chat-' || d.live_post_id,
                'messages', (array[
                    jsonb_build_array('hello from ' || d.country),
                    jsonb_build_array('so good!!', 'love you'),
                    jsonb_build_array('encore', 'encore', 'encore')
                ])[1 + d.b2 % 3])::text
            when 'comment' then jsonb_build_object('body', 'comment ' || d.b2 % 997, 'isHideFromArtist', d.b3 % 9 = 0)::text
            when 'post_write' then jsonb_build_object(
                'body', 'post ' || d.b2 % 991,
                'sectionType', case when d.b3 % 4 = 0 then 'ARTIST' else 'FEED' end,
                'isProduct', d.b3 % 11 = 0,
                'isHideFromArtist', d.b3 % 7 = 0,
                'isFcOnly', d.b3 % 5 = 0)::text
            when 'live_join' then jsonb_build_object('isFcOnly', false)::text
        end as request_body
    from described as d
)
select
    (extract(epoch from sh.event_ts) * 1000)::bigint as unix_log_timestamp,
    jsonb_build_object(
        'id', case when sh.logged_in then sh.user_no::text end,
        'user_key', case when sh.logged_in then 'uk-' || substr(md5('user' || sh.user_no), 1, 12) end,
        'device_id', 'dev-' || lpad(sh.device_no::text, 5, '0'),
        'status', case when sh.logged_in then 'ACTIVE' else 'ANONYMOUS' end,
        'ip_address', '10.' || (sh.device_no % 250) || '.' || (sh.device_no / 250 % 250) || '.' || (1 + sh.s % 250),
        'locale', sh.lang || '-' || sh.country,
        'country', sh.country,
        'user_agent', sh.user_agent
    ) as user_info,
    sh.url,
    case when sh.action = 'notifications' and sh.b4 % 50 = 0 then null else
    jsonb_strip_nulls(jsonb_build_object(
        '_method', sh.http_method,
        '_gcc', sh.country,
        '_consumer_id', case when sh.wpf = 'APP' then 'WEVAPP' else 'WEVWEB' end,
        '_provider_id', 'WEVERSE',
        '_request_body', sh.request_body,
        -- language and wpf are missing from one request in five: the request line has them
        'language', case when sh.b3 % 5 <> 0 then sh.lang end,
        'wpf', case when sh.b3 % 5 <> 0 then sh.wpf end,
        'platformId', sh.platform_id,
        'topic', case
            when sh.action in ('live_join', 'live_leave', 'chat', 'live_post') then 'LIVE'
            when sh.action in ('media') then 'MEDIA'
            when sh.action = 'notice' then 'NOTICE'
            when sh.action = 'post_write' and sh.b3 % 4 = 0 then 'ARTIST'
            when sh.action in ('post_view', 'comment', 'post_write') then 'FEED'
            when sh.action = 'search' then 'SEARCH'
        end,
        'postId', case when sh.kind = 'live' then sh.live_post_id end,
        'communityId', case when sh.action in ('notice', 'media', 'live_join', 'live_leave', 'chat') then sh.comm_no::text end,
        'videoId', case when sh.action in ('live_join', 'live_leave', 'chat') then sh.live_video_id
                        when sh.action = 'media' and sh.b3 % 3 <> 0 then (8000000 + sh.b2 % 3000)::text end,
        'videoSessionId', case when sh.action in ('live_join', 'live_leave') then 'vs-' || sh.s || '-' || sh.device_no end,
        'mediaType', case when sh.action = 'media' then case when sh.b3 % 3 <> 0 then 'VIDEO' else 'IMAGE' end end,
        'mediaTime', case when sh.action = 'media' and sh.b3 % 3 <> 0 then (sh.b4 % 3600)::text end,
        'query', case when sh.action = 'search' then (array['concert', 'live', 'photo', 'birthday', 'tour'])[1 + sh.b2 % 5] end
    ))::text end as params,
    sh.http_method || ' ' || sh.url || '?appId=be4d79eb&language=' || sh.lang || '&wpf=' || sh.wpf || ' HTTP/1.1' as request,
    sh.event_ts + make_interval(secs => (sh.b1 % 3000) / 1000.0) as produce_time
from shaped as sh
{% endcall %}
{% set counted = run_query('select count(*), min(unix_log_timestamp), max(unix_log_timestamp) from ' ~ log_table) %}
{{ log('generated ' ~ counted.rows[0][0] ~ ' server log rows in ' ~ log_table, info=True) }}
{% do run_query('analyze ' ~ log_table) %}
{% endmacro %}

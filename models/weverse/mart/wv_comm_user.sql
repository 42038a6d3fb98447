{#
  Community members (위버스 커뮤니티 회원): one row per membership (comm_user_id; a user
  who leaves and comes back is a new membership), with the user, the artist, the
  membership's history and status, the profile, reports, and the WV1 alarm and WV2 push
  settings. Partitioned as the page says by part_comm_id and part_date (the KST day the
  membership was created). Fan-club status is as of var('comm_user_as_of').
#}
{{ config(
    materialized='table',
    indexes=[
        {'columns': ['comm_user_id'], 'unique': True},
        {'columns': ['part_comm_id', 'part_date']},
    ],
) }}
{%- set as_of = var('comm_user_as_of', '2024-08-21 15:00:00') -%}

with profiles as (
    select
        comm_user_id::text as comm_user_id,
        wv_user_id::bigint as wv_user_id,
        comm_id::bigint as comm_id,
        nullif(profile_name, '')::text as profile_name,
        is_profile_created::bigint as is_profile_created,
        is_profile_private::bigint as is_profile_private,
        (coalesce(profile_img_url, '') <> '')::int as is_upload_profile_img,
        (coalesce(profile_background_img_url, '') <> '')::int as is_upload_profile_background_img,
        comm_user_grade::text as comm_user_grade,
        is_official::bigint as is_official,
        created_at::timestamp as comm_user_cre_dt
    from {{ source('we_mart', 'ods_wv_member_profile') }}
),

status_changes as (
    select
        comm_user_id::text as comm_user_id,
        status::text as status,
        logged_at::timestamp as logged_at,
        row_number() over (partition by comm_user_id order by logged_at desc, status) as latest
    from {{ source('weverse2', 'community_log_member_status_log') }}
),

ends as (
    select comm_user_id, min(logged_at) as comm_user_end_dt
    from status_changes
    where status in ('LEAVE', 'WITHDRAW')
    group by comm_user_id
),

spells as (
    select
        p.*,
        min(p.comm_user_cre_dt) over (partition by p.wv_user_id, p.comm_id) as comm_user_first_dt,
        min(p.comm_user_cre_dt) over (partition by p.wv_user_id) as tot_comm_user_first_dt,
        count(*) over (partition by p.wv_user_id, p.comm_id) as cnt_comm_user_id,
        row_number() over (partition by p.wv_user_id, p.comm_id order by p.comm_user_cre_dt, p.comm_user_id) as comm_user_seq
    from profiles as p
),

reports as (
    select comm_user_id::text as comm_user_id, count(*) as sum_report_count
    from {{ source('weverse2', 'community_common_report') }}
    group by comm_user_id
),

countries as (
    select
        wv_user_id::bigint as wv_user_id,
        ip_ctry::text as ip_ctry,
        row_number() over (partition by wv_user_id order by start_date desc) as latest
    from {{ source('we_mart', 'wv_user_ctry_history') }}
),

fan_clubs as (
    select
        f.we_member_id,
        f.we_art_id,
        f.fc_id,
        row_number() over (partition by f.we_member_id, f.we_art_id order by f.start_dt desc, f.fc_id desc) as latest
    from {{ ref('src_ws_fc_user_history') }} as f
    where timestamp '{{ as_of }}' >= f.start_dt
      and timestamp '{{ as_of }}' < f.end_dt
)

select
    (s.comm_user_cre_dt + interval '9 hours')::date as key_date,
    s.wv_user_id::bigint as wv_user_id,
    wu.we_member_id::bigint as we_member_id,
    s.comm_id::bigint as comm_id,
    a.we_art_id::int as we_art_id,
    a.we_art_name::text as we_art_name,
    (fc.fc_id is not null)::int as is_fc,
    fc.fc_id::bigint as fc_id,
    sm.art_indi_id::text as art_indi_id,
    sm.art_indi_type::text as art_indi_type,
    sm.art_indi_name::text as art_indi_name,
    c.ip_ctry::text as ip_ctry,
    wu.wv_user_status::text as wv_user_status,
    s.comm_user_first_dt::timestamp as comm_user_first_dt,
    s.tot_comm_user_first_dt::timestamp as tot_comm_user_first_dt,
    (s.comm_user_first_dt = s.tot_comm_user_first_dt)::int as is_first_user_comm,
    (case sc.status
        when 'JOIN' then 'NORMAL'
        when 'LEAVE' then 'LEAVE'
        when 'WITHDRAW' then 'WITHDRAW'
        when 'BANNED' then 'BANNED'
    end)::text as comm_user_status,
    s.comm_user_grade::text as comm_user_grade,
    s.comm_user_cre_dt::timestamp as comm_user_cre_dt,
    e.comm_user_end_dt::timestamp as comm_user_end_dt,
    s.is_profile_created::bigint as is_profile_created,
    s.profile_name::text as profile_name,
    s.is_profile_private::bigint as is_profile_private,
    s.is_upload_profile_img::int as is_upload_profile_img,
    s.is_upload_profile_background_img::int as is_upload_profile_background_img,
    s.is_official::bigint as is_official,
    s.comm_user_id::text as comm_user_id,
    s.cnt_comm_user_id::bigint as cnt_comm_user_id,
    coalesce(r.sum_report_count, 0)::bigint as sum_report_count,
    s.comm_user_seq::int as comm_user_seq,
    w1.notification_type::text as notification_type,
    w1.like_on_comment_alarm::smallint as like_on_comment_alarm,
    w1.hot_post_alarm::smallint as hot_post_alarm,
    w1.new_fc_alarm::smallint as new_fc_alarm,
    w1.new_media_alarm::smallint as new_media_alarm,
    w1.new_community_notice_alarm::smallint as new_community_notice_alarm,
    w1.artist_to_fans_post_alarm::smallint as artist_to_fans_post_alarm,
    w1.artist_post_alarm::smallint as artist_post_alarm,
    w1.artist_like_on_my_post_alarm::smallint as artist_like_on_my_post_alarm,
    w1.artist_comment_on_my_post_alarm::smallint as artist_comment_on_my_post_alarm,
    w1.like_on_my_post_alarm::smallint as like_on_my_post_alarm,
    w1.comment_on_my_post_alarm::smallint as comment_on_my_post_alarm,
    w1.after_receiving_artist_comment_alarm::smallint as after_receiving_artist_comment_alarm,
    pc.artist_cheering_me_push_enabled::smallint as artist_cheering_me_push_enabled,
    pc.artist_comment_push_enabled::smallint as artist_comment_push_enabled,
    pc.artist_live_on_air_push_enabled::smallint as artist_live_on_air_push_enabled,
    pc.artist_live_reservation_push_enabled::smallint as artist_live_reservation_push_enabled,
    pc.artist_moment_push_enabled::smallint as artist_moment_push_enabled,
    pc.artist_post_push_enabled::smallint as artist_post_push_enabled,
    pc.comment_push_enabled::smallint as comment_push_enabled,
    pc.community_anniversary_push_enabled::smallint as community_anniversary_push_enabled,
    pc.community_media_push_enabled::smallint as community_media_push_enabled,
    pc.community_notice_push_enabled::smallint as community_notice_push_enabled,
    pc.following_push_enabled::smallint as following_push_enabled,
    vm.v_ch_join_dt::timestamp as v_ch_join_dt,
    (vm.wv_user_id is not null)::int as is_v_user,
    s.comm_id::bigint as part_comm_id,
    to_char(s.comm_user_cre_dt + interval '9 hours', 'YYYY-MM-DD')::text as part_date,
    (now() at time zone 'UTC')::timestamp as run_timestamp
from spells as s
left join {{ source('we_mart', 'we_user') }} as wu on wu.wv_user_id = s.wv_user_id
left join {{ source('we_mart', 'we_artist') }} as a on a.comm_id = s.comm_id
left join fan_clubs as fc on fc.we_member_id = wu.we_member_id and fc.we_art_id = a.we_art_id and fc.latest = 1
left join {{ source('weverse2', 'community_member_special_member') }} as sm on sm.comm_user_id = s.comm_user_id
left join countries as c on c.wv_user_id = s.wv_user_id and c.latest = 1
left join status_changes as sc on sc.comm_user_id = s.comm_user_id and sc.latest = 1
left join ends as e on e.comm_user_id = s.comm_user_id
left join reports as r on r.comm_user_id = s.comm_user_id
left join {{ source('we_mart', 'wv1_join_info') }} as w1 on w1.wv_user_id = s.wv_user_id and w1.comm_id = s.comm_id
left join {{ source('weverse2', 'notification_push_config') }} as pc on pc.wv_user_id = s.wv_user_id and pc.comm_id = s.comm_id
left join {{ source('weverse2', 'community_log_v_member_migration') }} as vm on vm.wv_user_id = s.wv_user_id and vm.comm_id = s.comm_id

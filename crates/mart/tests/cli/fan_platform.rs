//! `mart run-operation`, and the fan-platform and Gold-layer marts of the example project
//! built on a small generated log, checked against the catalogue pages' column tables and
//! rules with independent queries.

// Test helpers: a NULL where the query cannot give one should fail the test loudly.
#![allow(clippy::unwrap_used)]

use crate::harness::TestProject;

#[test]
fn run_operation_calls_a_macro_with_args_and_executes_its_statements() {
    let project = TestProject::with_files(
        "runop",
        &[(
            "macros/ops.sql",
            "{% macro fill(n, label='row') %}\n\
             {% call statement('make') %}create table {{ target.schema }}.filled as select g as n, '{{ label }}' as label from generate_series(1, {{ n }}) as g{% endcall %}\n\
             {% do run_query('insert into ' ~ target.schema ~ '.filled values (0, ' ~ \"'zero'\" ~ ')') %}\n\
             {% call statement('count', fetch_result=True) %}select count(*) from {{ target.schema }}.filled{% endcall %}\n\
             {{ log('rows: ' ~ load_result('count').table.columns[0].values()[0], info=True) }}\n\
             {% endmacro %}\n",
        )],
    );
    project.execute(&format!("create schema \"{}\"", project.schema));
    let out = project.mart_expect(
        &["run-operation", "fill", "--args", "{n: 3, label: three}"],
        0,
    );
    assert!(out.stdout.contains("rows: 4"), "{}", out.stdout);
    let rows = project.query(&format!(
        "select n, label from \"{}\".filled order by n",
        project.schema
    ));
    let rows: Vec<(String, String)> = rows
        .into_iter()
        .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [
            ("0", "zero"),
            ("1", "three"),
            ("2", "three"),
            ("3", "three")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // JSON works as well as YAML.
    project.execute(&format!("drop table \"{}\".filled", project.schema));
    project.mart_expect(&["run-operation", "fill", "--args", r#"{"n": 1}"#], 0);
    assert_eq!(project.count(&format!("\"{}\".filled", project.schema)), 2);
}

#[test]
fn run_operation_errors_exit_1_at_the_macro_line_or_2_for_usage() {
    let project = TestProject::with_files(
        "runop_err",
        &[(
            "macros/broken.sql",
            "{% macro broken() %}\nselect 1;\n{% do run_query('select * from no_such_table_here') %}\n{% endmacro %}\n",
        )],
    );
    let out = project.mart_expect(&["run-operation", "broken"], 1);
    assert!(
        out.stderr.contains("macros/broken.sql:3:")
            && out.stderr.contains("no_such_table_here")
            && out.stderr.contains("does not exist"),
        "{}",
        out.stderr
    );
    let out = project.mart_expect(&["run-operation", "brokn"], 2);
    assert!(
        out.stderr.contains("no macro named 'brokn'")
            && out.stderr.contains("did you mean 'broken'?"),
        "{}",
        out.stderr
    );
    let out = project.mart_expect(&["run-operation", "broken", "--args", "[1, 2]"], 2);
    assert!(
        out.stderr.contains("--args is not a YAML mapping"),
        "{}",
        out.stderr
    );
    // Arguments the macro does not take: shown at the macro's definition.
    let out = project.mart_expect(&["run-operation", "broken", "--args", "{rows: 1}"], 1);
    assert!(
        out.stderr.contains("macros/broken.sql:1:10: error[MART202]: calling macro 'broken': too many arguments: unknown keyword argument `rows`"),
        "{}",
        out.stderr
    );
}

/// The column tables of the catalogue pages, with the PostgreSQL type of each column.
const SERVER_LOG_BASE_COLUMNS: [(&str, &str); 50] = [
    ("date_id", "text"),
    ("hour", "text"),
    ("log_dt", "timestamp without time zone"),
    ("user_info_user_key", "text"),
    ("sess_id", "text"),
    ("sess_seq", "bigint"),
    ("sess_start_dt", "timestamp without time zone"),
    ("sess_end_dt", "timestamp without time zone"),
    ("user_sess_id", "text"),
    ("user_sess_start_dt", "timestamp without time zone"),
    ("user_sess_end_dt", "timestamp without time zone"),
    ("user_info_id", "text"),
    ("user_info_device_id", "text"),
    ("platform", "text"),
    ("os", "text"),
    ("app_ver", "text"),
    ("user_id_fill", "text"),
    ("user_info_status", "text"),
    ("user_info_ip_address", "text"),
    ("user_info_locale", "text"),
    ("user_info_country", "text"),
    ("topic", "text"),
    ("method", "text"),
    ("gcc", "text"),
    ("language", "text"),
    ("consumer_id", "text"),
    ("provider_id", "text"),
    ("platform_id", "text"),
    ("wpf", "text"),
    ("is_join", "integer"),
    ("is_leave", "integer"),
    ("post_id", "text"),
    ("comm_id", "text"),
    ("notice_id", "text"),
    ("body", "text"),
    ("media_type", "text"),
    ("media_time", "text"),
    ("video_id", "text"),
    ("video_session_id", "text"),
    ("section_type", "text"),
    ("is_product", "text"),
    ("is_hide_from_artist", "text"),
    ("is_fc_only", "text"),
    ("chat_id", "text"),
    ("chat_msg_count", "integer"),
    ("chat_msg_list", "text"),
    ("url", "text"),
    ("params", "text"),
    ("user_info_user_agent", "text"),
    ("run_timestamp", "timestamp without time zone"),
];

const LIVE_PLAY_COLUMNS: [(&str, &str); 38] = [
    ("run_timestamp", "timestamp without time zone"),
    ("part_date", "text"),
    ("date_id", "text"),
    ("hour", "text"),
    ("minute", "integer"),
    ("datetime", "text"),
    ("we_member_id", "bigint"),
    ("wv_user_id", "text"),
    ("device_id", "text"),
    ("platform", "text"),
    ("os", "text"),
    ("ctry_code", "text"),
    ("post_id", "text"),
    ("video_id", "text"),
    ("start_dt", "timestamp without time zone"),
    ("end_dt", "timestamp without time zone"),
    ("tmp_end_dt", "timestamp without time zone"),
    ("we_art_id", "integer"),
    ("comm_id", "integer"),
    ("is_fc_only", "integer"),
    ("is_joint_live", "integer"),
    ("is_join", "integer"),
    ("is_leave", "integer"),
    ("u_join_first", "integer"),
    ("u_leave_last", "integer"),
    ("d_join_first", "integer"),
    ("d_leave_last", "integer"),
    ("is_late", "integer"),
    ("join_cnt", "bigint"),
    ("leave_cnt", "bigint"),
    ("u_sum_play_time", "bigint"),
    ("d_sum_play_time", "bigint"),
    ("is_first_wv_join", "integer"),
    ("is_first_comm_join", "integer"),
    ("is_comm_join", "integer"),
    ("is_comm_user", "integer"),
    ("is_fc", "integer"),
    ("guest_joint_seq", "integer"),
];

/// Page 002's table (its tinyint is smallint in PostgreSQL).
const COMM_USER_COLUMNS: [(&str, &str); 59] = [
    ("key_date", "date"),
    ("wv_user_id", "bigint"),
    ("we_member_id", "bigint"),
    ("comm_id", "bigint"),
    ("we_art_id", "integer"),
    ("we_art_name", "text"),
    ("is_fc", "integer"),
    ("fc_id", "bigint"),
    ("art_indi_id", "text"),
    ("art_indi_type", "text"),
    ("art_indi_name", "text"),
    ("ip_ctry", "text"),
    ("wv_user_status", "text"),
    ("comm_user_first_dt", "timestamp without time zone"),
    ("tot_comm_user_first_dt", "timestamp without time zone"),
    ("is_first_user_comm", "integer"),
    ("comm_user_status", "text"),
    ("comm_user_grade", "text"),
    ("comm_user_cre_dt", "timestamp without time zone"),
    ("comm_user_end_dt", "timestamp without time zone"),
    ("is_profile_created", "bigint"),
    ("profile_name", "text"),
    ("is_profile_private", "bigint"),
    ("is_upload_profile_img", "integer"),
    ("is_upload_profile_background_img", "integer"),
    ("is_official", "bigint"),
    ("comm_user_id", "text"),
    ("cnt_comm_user_id", "bigint"),
    ("sum_report_count", "bigint"),
    ("comm_user_seq", "integer"),
    ("notification_type", "text"),
    ("like_on_comment_alarm", "smallint"),
    ("hot_post_alarm", "smallint"),
    ("new_fc_alarm", "smallint"),
    ("new_media_alarm", "smallint"),
    ("new_community_notice_alarm", "smallint"),
    ("artist_to_fans_post_alarm", "smallint"),
    ("artist_post_alarm", "smallint"),
    ("artist_like_on_my_post_alarm", "smallint"),
    ("artist_comment_on_my_post_alarm", "smallint"),
    ("like_on_my_post_alarm", "smallint"),
    ("comment_on_my_post_alarm", "smallint"),
    ("after_receiving_artist_comment_alarm", "smallint"),
    ("artist_cheering_me_push_enabled", "smallint"),
    ("artist_comment_push_enabled", "smallint"),
    ("artist_live_on_air_push_enabled", "smallint"),
    ("artist_live_reservation_push_enabled", "smallint"),
    ("artist_moment_push_enabled", "smallint"),
    ("artist_post_push_enabled", "smallint"),
    ("comment_push_enabled", "smallint"),
    ("community_anniversary_push_enabled", "smallint"),
    ("community_media_push_enabled", "smallint"),
    ("community_notice_push_enabled", "smallint"),
    ("following_push_enabled", "smallint"),
    ("v_ch_join_dt", "timestamp without time zone"),
    ("is_v_user", "integer"),
    ("part_comm_id", "bigint"),
    ("part_date", "text"),
    ("run_timestamp", "timestamp without time zone"),
];

/// Page 003's tables, with the lengths of its DDL's varchar columns.
const MART_SESSION_ANALYSIS_COLUMNS: [(&str, &str); 7] = [
    ("session_id", "character varying(50)"),
    ("event_date", "date"),
    ("click_count", "integer"),
    ("unique_docs", "integer"),
    ("first_click_ts", "timestamp without time zone"),
    ("last_click_ts", "timestamp without time zone"),
    ("session_duration_sec", "integer"),
];

const MART_DAILY_TRAFFIC_COLUMNS: [(&str, &str); 5] = [
    ("event_date", "date"),
    ("total_events", "integer"),
    ("unique_sessions", "integer"),
    ("unique_documents", "integer"),
    ("peak_hour", "integer"),
];

const MART_CLINICAL_AREAS_COLUMNS: [(&str, &str); 4] = [
    ("event_date", "date"),
    ("clinical_area", "character varying(100)"),
    ("search_count", "integer"),
    ("unique_sessions", "integer"),
];

const MART_POPULAR_DOCUMENTS_COLUMNS: [(&str, &str); 5] = [
    ("event_date", "date"),
    ("document_id", "integer"),
    ("title", "character varying(500)"),
    ("view_count", "integer"),
    ("unique_sessions", "integer"),
];

fn columns(project: &TestProject, table: &str) -> Vec<(String, String)> {
    project
        .query(&format!(
            "select column_name, data_type || coalesce('(' || character_maximum_length || ')', '') \
             from information_schema.columns \
             where table_schema = '{}' and table_name = '{table}' order by ordinal_position",
            project.schema
        ))
        .into_iter()
        .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
        .collect()
}

fn expected(columns: &[(&str, &str)]) -> Vec<(String, String)> {
    columns
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect()
}

fn single(project: &TestProject, sql: &str) -> String {
    project.query(sql)[0][0].clone().unwrap_or_default()
}

/// Per date_id: (rows, md5 of the ordered rows without run_timestamp, md5 of run_timestamps).
fn day_fingerprints(project: &TestProject) -> Vec<Vec<Option<String>>> {
    let cols: Vec<&str> = SERVER_LOG_BASE_COLUMNS
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| *n != "run_timestamp")
        .collect();
    // A row's text form, unlike a concatenation, tells a NULL from an empty value.
    let row = format!("row({})::text", cols.join(", "));
    project.query(&format!(
        "select date_id, count(*)::text, \
         md5(string_agg({row}, E'\\n' order by {row})), \
         md5(string_agg(run_timestamp::text, ',' order by {row})) \
         from \"{}\".wv_server_log_base group by date_id order by date_id",
        project.schema
    ))
}

#[test]
fn fan_platform_marts_build_on_a_generated_log_and_follow_the_pages() {
    let project = TestProject::example("fan");
    let s = project.schema.clone();
    project.mart_expect(&["seed", "-s", "tag:weverse"], 0);
    let out = project.mart_expect(
        &[
            "run-operation",
            "generate_server_log",
            "--args",
            "{rows: 20000}",
        ],
        0,
    );
    assert!(
        out.stdout.contains("generated 20000 server log rows"),
        "{}",
        out.stdout
    );
    // Seeds, models and every data test of the fan-platform marts, in DAG order.
    let out = project.mart_expect(
        &[
            "build",
            "-s",
            "tag:weverse",
            "source:service_log+",
            "source:we_mart+",
            "source:weverse2+",
        ],
        0,
    );
    assert!(out.stdout.contains(" ERROR=0 SKIP=0 "), "{}", out.stdout);

    // The column tables of pages 000, 001 and 002, in order, with PostgreSQL types.
    assert_eq!(
        columns(&project, "wv_server_log_base"),
        expected(&SERVER_LOG_BASE_COLUMNS)
    );
    assert_eq!(
        columns(&project, "wv_live_play"),
        expected(&LIVE_PLAY_COLUMNS)
    );
    assert_eq!(
        columns(&project, "wv_comm_user"),
        expected(&COMM_USER_COLUMNS)
    );

    // Every raw row lands in exactly one date_id, its KST day (counted from the raw log).
    let raw_days = project.query(&format!(
        "select to_char(timestamp 'epoch' + unix_log_timestamp * interval '1 millisecond' + interval '9 hours', 'YYYY-MM-DD'), count(*)::text \
         from \"{s}_service_log\".weverse_server_log group by 1 order by 1"
    ));
    let base_days = project.query(&format!(
        "select date_id, count(*)::text from \"{s}\".wv_server_log_base group by 1 order by 1"
    ));
    assert_eq!(raw_days, base_days);
    assert!(raw_days.len() >= 4, "{raw_days:?}");

    // Sessions: a gap of more than 30 minutes on a device (or a new KST day) starts a new
    // sess_id, a shorter one never does.
    let bad_sessions = single(
        &project,
        &format!(
            "select count(*) from (select sess_id, date_id, log_dt, \
               lag(sess_id) over w as prev_sess, lag(log_dt) over w as prev_dt, lag(date_id) over w as prev_day \
               from \"{s}\".wv_server_log_base window w as (partition by user_info_device_id order by log_dt, sess_seq)) t \
             where prev_dt is not null and ((log_dt - prev_dt > interval '30 minutes' or date_id <> prev_day) = (sess_id = prev_sess))"
        ),
    );
    assert_eq!(bad_sessions, "0");

    // Live play: every join of a counted live by a logged-in viewer is in wv_live_play
    // once per artist of the live, and nobody plays a negative or over-long time.
    let joins_in_log = single(
        &project,
        &format!(
            "select count(*) from \"{s}\".wv_server_log_base b \
             join \"{s}_we_mart\".wv_live l on l.post_id = b.post_id \
             left join (select post_id, count(*) as guests from \"{s}_we_mart\".wv_live_joint_history group by 1) g on g.post_id = l.post_id \
             cross join lateral generate_series(0, coalesce(g.guests, 0)) \
             where b.url = '/video/v1.0/join' and b.user_id_fill is not null \
               and l.status <> 'CANCELED' and l.is_from_vlive = 0"
        ),
    );
    let joins_in_mart = single(
        &project,
        &format!("select sum(join_cnt) from \"{s}\".wv_live_play"),
    );
    assert_eq!(joins_in_log, joins_in_mart);
    assert_ne!(joins_in_mart, "0");
    let bad_play = single(
        &project,
        &format!(
            "select count(*) from \"{s}\".wv_live_play \
             where d_sum_play_time < 0 or d_sum_play_time > extract(epoch from tmp_end_dt - start_dt) or u_sum_play_time < d_sum_play_time"
        ),
    );
    assert_eq!(bad_play, "0");
    // Viewers who signed up during the live they watch (user_user.created_at) are flagged.
    let signups = project.query(&format!(
        "select distinct b.post_id, b.user_id_fill from \"{s}\".wv_server_log_base b \
         join \"{s}_we_mart\".wv_live l on l.post_id = b.post_id \
         join \"{s}_weverse2\".user_user u on u.id::text = b.user_id_fill \
         where b.url in ('/video/v1.0/join', '/video/v1.0/leave') and l.status <> 'CANCELED' and l.is_from_vlive = 0 \
           and u.created_at between l.start_dt and coalesce(l.end_dt, (select max(log_dt) from \"{s}\".wv_server_log_base x where x.post_id = l.post_id and x.url in ('/video/v1.0/join', '/video/v1.0/leave'))) \
         order by 1, 2"
    ));
    let flagged = project.query(&format!(
        "select distinct post_id, wv_user_id from \"{s}\".wv_live_play where is_first_wv_join = 1 order by 1, 2"
    ));
    assert_eq!(signups, flagged);

    // A daily re-run rebuilds exactly that KST day, reproduces its rows, and leaves every
    // other day untouched (their run_timestamp included).
    let before = day_fingerprints(&project);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = project.mart_expect(
        &[
            "run",
            "-s",
            "wv_server_log_base",
            "--vars",
            "{date_id: 2024-08-20}",
        ],
        0,
    );
    let day_rows = before
        .iter()
        .find(|r| r[0].as_deref() == Some("2024-08-20"))
        .and_then(|r| r[1].clone())
        .unwrap();
    assert!(
        out.stdout.contains(&format!("INSERT {day_rows}")),
        "{}",
        out.stdout
    );
    let after = day_fingerprints(&project);
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        if b[0].as_deref() == Some("2024-08-20") {
            assert_eq!(b[..3], a[..3], "the rebuilt day has the same rows");
            assert_ne!(b[3], a[3], "the rebuilt day was written again");
        } else {
            assert_eq!(b, a, "other days are untouched");
        }
    }
}

#[test]
fn gold_marts_build_from_a_generated_click_log() {
    let project = TestProject::example("gold");
    let s = project.schema.clone();
    project.mart_expect(&["seed", "-s", "tag:gold"], 0);
    project.mart_expect(
        &[
            "run-operation",
            "generate_click_log",
            "--args",
            "{rows: 5000}",
        ],
        0,
    );
    let out = project.mart_expect(&["build", "-s", "tag:gold", "source:silver+"], 0);
    assert!(out.stdout.contains(" ERROR=0 SKIP=0 "), "{}", out.stdout);

    // Page 003's tables, in order, with its types; its primary keys as unique indexes and
    // its date indexes.
    for (table, cols) in [
        ("mart_session_analysis", &MART_SESSION_ANALYSIS_COLUMNS[..]),
        ("mart_daily_traffic", &MART_DAILY_TRAFFIC_COLUMNS[..]),
        ("mart_clinical_areas", &MART_CLINICAL_AREAS_COLUMNS[..]),
        (
            "mart_popular_documents",
            &MART_POPULAR_DOCUMENTS_COLUMNS[..],
        ),
    ] {
        assert_eq!(columns(&project, table), expected(cols), "{table}");
    }
    let indexes: Vec<String> = project
        .query(&format!(
            "select replace(indexdef, '{s}.', '') from pg_indexes \
             where schemaname = '{s}' and tablename like 'mart\\_%' order by tablename, indexname"
        ))
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    assert_eq!(
        indexes,
        [
            "CREATE INDEX mart_clinical_areas__event_date__idx ON mart_clinical_areas USING btree (event_date)",
            "CREATE UNIQUE INDEX mart_clinical_areas__event_date_clinical_area__uidx ON mart_clinical_areas USING btree (event_date, clinical_area)",
            "CREATE UNIQUE INDEX mart_daily_traffic__event_date__uidx ON mart_daily_traffic USING btree (event_date)",
            "CREATE INDEX mart_popular_documents__event_date__idx ON mart_popular_documents USING btree (event_date)",
            "CREATE UNIQUE INDEX mart_popular_documents__event_date_document_id__uidx ON mart_popular_documents USING btree (event_date, document_id)",
            "CREATE INDEX mart_session_analysis__event_date__idx ON mart_session_analysis USING btree (event_date)",
            "CREATE UNIQUE INDEX mart_session_analysis__session_id_event_date__uidx ON mart_session_analysis USING btree (session_id, event_date)",
        ]
    );
    let totals = project.query(&format!(
        "select (select sum(total_events) from \"{s}\".mart_daily_traffic)::text, \
                (select sum(view_count) from \"{s}\".mart_popular_documents)::text, \
                (select sum(click_count) from \"{s}\".mart_session_analysis)::text, \
                (select count(*) from (select session_id, event_date from \"{s}\".mart_session_analysis group by 1, 2 having count(*) > 1) d)::text, \
                (select count(*) from (select event_date, clinical_area from \"{s}\".mart_clinical_areas group by 1, 2 having count(*) > 1) d)::text"
    ));
    let totals: Vec<String> = totals[0].iter().map(|v| v.clone().unwrap()).collect();
    assert_eq!(totals, ["5000", "5000", "5000", "0", "0"]);
    // Searches per clinical area, counted from the Silver log directly.
    let searches = project.query(&format!(
        "select a.clinical_area, c.event_ts::date::text, count(distinct c.search_id)::text \
         from \"{s}_silver\".click_log c join \"{s}_raw_data\".clinical_areas a using (clinical_area_id) \
         group by 1, 2 order by 2, 1"
    ));
    let mart = project.query(&format!(
        "select clinical_area, event_date::text, search_count::text from \"{s}\".mart_clinical_areas order by 2, 1"
    ));
    assert_eq!(searches, mart);
}

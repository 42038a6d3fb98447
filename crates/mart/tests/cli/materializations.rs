//! Materialized views, the microbatch incremental strategy and `sql_header`, end to end
//! on PostgreSQL, with the sequences of runs checked side by side with dbt-core 1.10 /
//! dbt-postgres 1.9 (same rows, same batches, same messages).

#![allow(clippy::unwrap_used)]

use crate::harness::TestProject;

/// A project whose raw table `events (id, ts, v)` and one-row table `switch (d)` live in
/// the schema `<schema>_raw`, declared as source `raw` (events with `event_time: ts`).
fn project(tag: &str, files: &[(&str, &str)]) -> TestProject {
    let project = TestProject::with_files(tag, files);
    let raw = format!("{}_raw", project.schema);
    project.write(
        "models/sources.yml",
        &format!(
            "sources:\n  - name: raw\n    schema: {raw}\n    tables:\n      - name: events\n        config:\n          event_time: ts\n      - name: switch\n"
        ),
    );
    project.execute(&format!(
        "create schema \"{raw}\"; \
         create table \"{raw}\".events (id int, ts timestamp, v int); \
         insert into \"{raw}\".events values (1, '2024-01-01 10:00', 10), (2, '2024-01-02 11:00', 20), (3, '2024-01-03 12:00', 30); \
         create table \"{raw}\".switch (d int); insert into \"{raw}\".switch values (1)"
    ));
    project
}

fn raw(project: &TestProject, sql: &str) {
    project.execute(&format!(
        "set search_path to \"{}_raw\"; {sql}",
        project.schema
    ));
}

fn run_results(project: &TestProject) -> serde_json::Value {
    let text = std::fs::read_to_string(project.dir.join("target/run_results.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// (status, message) of the last run's result for model `name`.
fn result_of(project: &TestProject, name: &str) -> (String, String) {
    let results = run_results(project);
    let r = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unique_id"] == format!("model.fx.{name}"))
        .unwrap()
        .clone();
    (
        r["status"].as_str().unwrap().to_string(),
        r["message"].as_str().unwrap().to_string(),
    )
}

const MV: &str =
    "{{ config(materialized='materialized_view', on_configuration_change=var('occ', 'apply'), \
    indexes=var('idx', [{'columns': ['id'], 'unique': True}])) }}\n\
    select id, v from {{ source('raw', 'events') }}\n";

fn is_matview(project: &TestProject, name: &str) -> bool {
    !project
        .rows(&format!(
            "select 1 from pg_matviews where schemaname = '{}' and matviewname = '{name}'",
            project.schema
        ))
        .is_empty()
}

/// The index definitions on `name`, without their generated names.
fn indexes(project: &TestProject, name: &str) -> Vec<String> {
    project.rows(&format!(
        "select regexp_replace(indexdef, 'INDEX \\S+ ON', 'INDEX ON') from pg_indexes \
         where schemaname = '{}' and tablename = '{name}' order by 1",
        project.schema
    ))
}

fn mv_ids(project: &TestProject) -> Vec<String> {
    project.rows(&format!(
        "select string_agg(id::text, ',' order by id) from \"{}\".mv",
        project.schema
    ))
}

#[test]
fn materialized_view_is_created_refreshed_and_follows_on_configuration_change() {
    let project = project("mv", &[("models/mv.sql", MV)]);
    let s = project.schema.clone();
    let out = project.mart_expect(&["run"], 0);
    assert!(is_matview(&project, "mv"), "{}", out.stdout);
    assert_eq!(mv_ids(&project), ["1,2,3"]);
    assert_eq!(
        indexes(&project, "mv"),
        [format!("CREATE UNIQUE INDEX ON {s}.mv USING btree (id)")]
    );
    assert_eq!(
        result_of(&project, "mv"),
        ("success".into(), "CREATE MATERIALIZED VIEW".into())
    );

    // Unchanged configuration: refreshed.
    raw(
        &project,
        "insert into events values (4, '2024-01-04 09:00', 40)",
    );
    project.mart_expect(&["run"], 0);
    assert_eq!(mv_ids(&project), ["1,2,3,4"]);
    assert_eq!(
        result_of(&project, "mv"),
        ("success".into(), "REFRESH MATERIALIZED VIEW".into())
    );

    // Changed indexes under `continue`: a warning, the view left as it is (no refresh).
    raw(
        &project,
        "insert into events values (5, '2024-01-05 09:00', 50)",
    );
    let changed = "{occ: continue, idx: [{columns: [v]}]}";
    let out = project.mart_expect(&["run", "--vars", changed], 0);
    let relation = format!("\"postgres\".\"{s}\".\"mv\"");
    assert!(
        out.stdout.contains(&format!("Configuration changes were identified and `on_configuration_change` was set to `continue` for `{relation}`")),
        "{}",
        out.stdout
    );
    assert_eq!(
        result_of(&project, "mv"),
        ("success".into(), format!("skip {relation}"))
    );
    assert_eq!(mv_ids(&project), ["1,2,3,4"]);
    assert_eq!(indexes(&project, "mv").len(), 1);

    // ... under `fail`: the model fails with dbt's message.
    let out = project.mart_expect(&["run", "--vars", "{occ: fail, idx: [{columns: [v]}]}"], 1);
    let message = format!("Configuration changes were identified and `on_configuration_change` was set to `fail` for `{relation}`");
    assert_eq!(result_of(&project, "mv"), ("error".into(), message.clone()));
    assert!(out.stdout.contains(&message), "{}", out.stdout);
    assert_eq!(mv_ids(&project), ["1,2,3,4"]);

    // ... under `apply`: the indexes change in place, the data is not refreshed.
    project.mart_expect(&["run", "--vars", "{occ: apply, idx: [{columns: [v]}]}"], 0);
    assert_eq!(
        indexes(&project, "mv"),
        [format!("CREATE INDEX ON {s}.mv USING btree (v)")]
    );
    assert_eq!(mv_ids(&project), ["1,2,3,4"]);
    assert_eq!(
        result_of(&project, "mv"),
        ("success".into(), "CREATE INDEX".into())
    );

    // --full-refresh rebuilds it, with the configured indexes.
    project.mart_expect(&["run", "--full-refresh"], 0);
    assert_eq!(mv_ids(&project), ["1,2,3,4,5"]);
    assert!(is_matview(&project, "mv"));
    assert_eq!(
        indexes(&project, "mv"),
        [format!("CREATE UNIQUE INDEX ON {s}.mv USING btree (id)")]
    );

    // A table of the same name is replaced.
    project.execute(&format!(
        "drop materialized view \"{s}\".mv; create table \"{s}\".mv as select 1 as x"
    ));
    project.mart_expect(&["run"], 0);
    assert!(is_matview(&project, "mv"));
    assert_eq!(mv_ids(&project), ["1,2,3,4,5"]);
}

#[test]
fn unknown_on_configuration_change_is_an_error_naming_the_values() {
    let project = project("mv_bad", &[("models/mv.sql", MV)]);
    let out = project.mart_expect(&["run", "--vars", "{occ: ignore}"], 1);
    assert!(
        out.stdout
            .contains("unknown on_configuration_change 'ignore': expected apply, continue or fail"),
        "{}",
        out.stdout
    );
}

const MB: &str = "{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='ts', \
    batch_size='day', begin='2024-01-01', unique_key='id', lookback=1) }}\n\
    select id, ts, case when ts >= '2024-01-03' and ts < '2024-01-04' then v / (select d from {{ source('raw', 'switch') }}) else v end as v\n\
    from {{ source('raw', 'events') }}\n";

fn mb_rows(project: &TestProject) -> Vec<String> {
    project.rows(&format!(
        "select id || ' ' || v from \"{}\".mb order by id",
        project.schema
    ))
}

/// The last run's batch_results of model `mb`, as `start..end` dates.
fn batches(project: &TestProject) -> (Vec<String>, Vec<String>) {
    let results = run_results(project);
    let r = &results["results"][0];
    let list = |key: &str| {
        r["batch_results"][key]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                format!(
                    "{}..{}",
                    &b[0].as_str().unwrap()[..10],
                    &b[1].as_str().unwrap()[..10]
                )
            })
            .collect::<Vec<_>>()
    };
    (list("successful"), list("failed"))
}

#[test]
fn microbatch_runs_batches_reports_partial_success_and_retries_failed_batches() {
    let project = project("mb", &[("models/mb.sql", MB)]);
    // First run: from `begin` to the given end, one batch a day.
    let out = project.mart_expect(
        &[
            "run",
            "--event-time-start",
            "2024-01-01",
            "--event-time-end",
            "2024-01-03",
        ],
        0,
    );
    let stdout = out.stable_stdout();
    let s = &project.schema;
    for line in [
        format!("1 of 1 START sql microbatch model {s}.mb"),
        format!("Batch 1 of 2 START batch 2024-01-01 of {s}.mb"),
        format!("Batch 1 of 2 OK created batch 2024-01-01 of {s}.mb"),
        format!("Batch 2 of 2 OK created batch 2024-01-02 of {s}.mb"),
        "[SUCCESS in N.NNs]".to_string(),
    ] {
        assert!(stdout.contains(&line), "{line} not in\n{stdout}");
    }
    assert_eq!(mb_rows(&project), ["1 10", "2 20"]);
    assert_eq!(
        result_of(&project, "mb"),
        ("success".into(), "SUCCESS".into())
    );
    assert_eq!(
        batches(&project),
        (
            vec![
                "2024-01-01..2024-01-02".into(),
                "2024-01-02..2024-01-03".into()
            ],
            vec![]
        )
    );
    // Each batch's SQL reads only the batch's rows of the source with an event_time.
    let compiled = std::fs::read_to_string(
        project
            .dir
            .join("target/compiled/fx/models/mb/mb_2024-01-02.sql"),
    )
    .unwrap();
    assert!(
        compiled.contains(&format!(
            "from (select * from \"postgres\".\"{s}_raw\".\"events\" where ts >= '2024-01-02 00:00:00+00:00' and ts < '2024-01-03 00:00:00+00:00') _dbt_et_filter_subq_events"
        )),
        "{compiled}"
    );
    assert!(compiled.contains(&format!(
        "(select d from \"postgres\".\"{s}_raw\".\"switch\")"
    )));

    // A later run over three days whose middle batch fails: partial success.
    raw(
        &project,
        "insert into events values (4, '2024-01-04 09:00', 40), (5, '2024-01-02 23:00', 50); update switch set d = 0",
    );
    let out = project.mart_expect(
        &[
            "run",
            "--event-time-start",
            "2024-01-02",
            "--event-time-end",
            "2024-01-05",
        ],
        1,
    );
    let stdout = out.stable_stdout();
    for line in [
        format!("Batch 2 of 3 ERROR creating batch 2024-01-03 of {s}.mb"),
        format!("Batch 3 of 3 OK created batch 2024-01-04 of {s}.mb"),
        format!("1 of 1 PARTIALLY created sql microbatch model {s}.mb"),
        "[PARTIAL SUCCESS (2/3) in N.NNs]".into(),
        "Completed with 1 partial success and 0 warnings".into(),
        "division by zero".into(),
    ] {
        assert!(stdout.contains(&line), "{line} not in\n{stdout}");
    }
    assert_eq!(mb_rows(&project), ["1 10", "2 20", "4 40", "5 50"]);
    assert_eq!(
        result_of(&project, "mb"),
        ("partial success".into(), "PARTIAL SUCCESS (2/3)".into())
    );
    assert_eq!(
        batches(&project),
        (
            vec![
                "2024-01-02..2024-01-03".into(),
                "2024-01-04..2024-01-05".into()
            ],
            vec!["2024-01-03..2024-01-04".into()]
        )
    );

    // retry runs the failed batch only.
    raw(&project, "update switch set d = 1");
    let out = project.mart_expect(&["retry"], 0);
    assert!(
        out.stdout.contains(&format!(
            "Batch 1 of 1 OK created batch 2024-01-03 of {s}.mb"
        )),
        "{}",
        out.stdout
    );
    assert_eq!(mb_rows(&project), ["1 10", "2 20", "3 30", "4 40", "5 50"]);
    assert_eq!(
        result_of(&project, "mb"),
        ("success".into(), "SUCCESS".into())
    );
    assert_eq!(batches(&project).0.len(), 3);
}

#[test]
fn microbatch_first_run_starts_at_begin_and_later_runs_look_back() {
    let model = MB
        .replace("batch_size='day'", "batch_size='year'")
        .replace("lookback=1", "lookback=0");
    let project = project("mb_year", &[("models/mb.sql", &model)]);
    let year: i64 = project.rows("select extract(year from now())::int")[0]
        .parse()
        .unwrap();
    project.mart_expect(&["run"], 0);
    let (done, failed) = batches(&project);
    assert_eq!(done.len() as i64, year - 2024 + 1, "{done:?}");
    assert!(failed.is_empty());
    assert_eq!(mb_rows(&project), ["1 10", "2 20", "3 30"]);
    // lookback 0: only the current year's batch.
    project.mart_expect(&["run"], 0);
    assert_eq!(
        batches(&project).0,
        [format!("{year}-01-01..{}-01-01", year + 1)]
    );
    // --full-refresh starts at begin again and rebuilds the table.
    raw(&project, "delete from events where id = 3");
    project.mart_expect(&["run", "--full-refresh"], 0);
    assert_eq!(batches(&project).0.len() as i64, year - 2024 + 1);
    assert_eq!(mb_rows(&project), ["1 10", "2 20"]);
    // --empty builds the table without reading rows.
    project.mart_expect(&["run", "--full-refresh", "--empty"], 0);
    assert_eq!(mb_rows(&project), Vec::<String>::new());
}

#[test]
fn microbatch_configs_and_flags_are_checked() {
    let no_key = MB.replace(", unique_key='id'", "");
    let project = project("mb_cfg", &[("models/mb.sql", &no_key)]);
    let out = project.mart_expect(&["run"], 1);
    assert!(
        out.stdout
            .contains("the microbatch strategy on PostgreSQL needs a unique_key"),
        "{}",
        out.stdout
    );
    project.write(
        "models/mb.sql",
        &MB.replace("batch_size='day'", "batch_size='week'"),
    );
    let out = project.mart_expect(&["run"], 1);
    assert!(
        out.stdout
            .contains("unknown batch_size 'week': expected hour, day, month or year"),
        "{}",
        out.stdout
    );
    let out = project.mart_expect(&["run", "--event-time-end", "2024-01-03"], 2);
    assert!(
        out.stderr
            .contains("--event-time-end was given without --event-time-start; give both"),
        "{}",
        out.stderr
    );
    let out = project.mart_expect(
        &[
            "run",
            "--event-time-start",
            "2024-01-03",
            "--event-time-end",
            "2024-01-01",
        ],
        2,
    );
    assert!(
        out.stderr
            .contains("--event-time-start must be earlier than --event-time-end"),
        "{}",
        out.stderr
    );
}

#[test]
fn sql_header_runs_before_the_create_statement_in_the_same_session() {
    let project = TestProject::with_files(
        "sql_header",
        &[
            (
                "models/tz.sql",
                "{{ config(materialized='table', sql_header=\"set local timezone = 'Asia/Seoul'\") }}\nselect current_setting('timezone') as tz\n",
            ),
            (
                "models/dbl.sql",
                "{{ config(materialized='incremental') }}\n\
                 {% call set_sql_header(config) %}\n\
                 create function pg_temp.dbl(x int) returns int language sql as $$ select 2 * x $$;\n\
                 {% endcall %}\n\
                 select pg_temp.dbl(21) as v\n",
            ),
            (
                "models/bad.sql",
                "{{ config(materialized='table', sql_header='set nonsense') }}\nselect 1 as x\n",
            ),
        ],
    );
    let out = project.mart_expect(&["run"], 1);
    let s = &project.schema;
    assert_eq!(
        project.rows(&format!("select tz from \"{s}\".tz")),
        ["Asia/Seoul"]
    );
    assert_eq!(project.rows(&format!("select v from \"{s}\".dbl")), ["42"]);
    // An incremental run creates its temporary table after the header too.
    project.mart_expect(&["run", "-s", "dbl"], 0);
    assert_eq!(
        project.rows(&format!("select v from \"{s}\".dbl")),
        ["42", "42"]
    );
    assert!(
        out.stdout
            .contains("model 'bad': its sql_header failed: syntax error at end of input"),
        "{}",
        out.stdout
    );
    // target/run shows the header before the build's statements.
    let run = std::fs::read_to_string(project.dir.join("target/run/fx/models/tz.sql")).unwrap();
    assert!(
        run.starts_with("set local timezone = 'Asia/Seoul';\n\ndrop table if exists"),
        "{run}"
    );
}

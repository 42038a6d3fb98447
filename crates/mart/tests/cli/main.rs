//! End-to-end tests of the `mart` binary: the example project and small fixture projects
//! against the real PostgreSQL on 127.0.0.1:5432, each in a schema of its own.

mod adapter_api;
mod airflow;
mod artifacts_more;
mod contracts;
mod custom_materializations;
mod data_tests;
mod dbt_macros;
mod deps;
mod docs;
mod docs_blocks;
mod exposures;
mod fan_platform;
mod flags;
mod freshness;
mod harness;
mod hooks;
mod incremental;
mod init;
mod malformed;
mod manifest_updates;
mod materializations;
mod mistakes;
mod partial_parse;
mod safety;
mod secrets;
mod seed;
mod selectors;
mod semantic;
mod show;
mod snapshot;
mod state;
mod static_analysis;
mod static_analysis_corpus;
mod unit_tests;
mod versions;
mod view_skip;

use harness::TestProject;

/// Every relation the example builds, with its kind and exact row count.
fn example_state(project: &TestProject) -> Vec<(String, String, String, i64)> {
    project
        .relations()
        .into_iter()
        .map(|(suffix, name, kind)| {
            let count = project.count(&format!("\"{}{suffix}\".\"{name}\"", project.schema));
            (suffix, name, kind, count)
        })
        .collect()
}

/// Leaves out the fan-platform and Gold-layer parts of the example project and the tests
/// of their models, seeds and sources, which need a generated log first (see the
/// fan_platform tests): what remains is the lecture project.
pub const LECTURE_ONLY: [&str; 7] = [
    "--exclude",
    "tag:weverse+",
    "tag:gold+",
    "source:service_log+",
    "source:we_mart+",
    "source:weverse2+",
    "source:silver+",
];

/// `args` followed by [`LECTURE_ONLY`].
pub fn lecture(args: &[&'static str]) -> Vec<&'static str> {
    args.iter().copied().chain(LECTURE_ONLY).collect()
}

#[test]
fn example_project_seeds_and_runs_twice_with_identical_results() {
    let project = TestProject::example("example");
    project.mart_expect(&lecture(&["seed"]), 0);
    let first = project.mart_expect(&lecture(&["run"]), 0);
    project.mart_expect(&["snapshot"], 0);
    assert!(
        first
            .stdout
            .contains("Done. PASS=5 WARN=0 ERROR=0 SKIP=0 TOTAL=5"),
        "{}",
        first.stdout
    );
    let expected: Vec<(String, String, String, i64)> = [
        ("", "analytics_variant_user_daily", "v", 1316),
        ("", "dim_user", "r", 300),
        ("", "dim_user_metadata", "r", 288),
        ("", "dim_user_variant", "r", 300),
        ("", "fact_user_event", "r", 3962),
        ("_raw_data", "user_event", "r", 3965),
        ("_raw_data", "user_metadata", "r", 288),
        ("_raw_data", "user_variant", "r", 300),
        ("_snapshots", "user_metadata_snapshot", "r", 288),
    ]
    .into_iter()
    .map(|(s, n, k, c)| (s.to_string(), n.to_string(), k.to_string(), c))
    .collect();
    assert_eq!(example_state(&project), expected);

    // Seeds reload (truncate path, then a full refresh) and models rebuild the same.
    project.mart_expect(&lecture(&["seed"]), 0);
    project.mart_expect(&lecture(&["seed", "--full-refresh"]), 0);
    project.mart_expect(&lecture(&["run", "--threads", "1"]), 0);
    // Nothing changed in user_metadata: the snapshot adds no version.
    project.mart_expect(&["snapshot"], 0);
    assert_eq!(example_state(&project), expected);
    // Nothing is left behind by the swaps.
    assert!(project
        .relations()
        .iter()
        .all(|(_, n, _)| !n.contains("__mart_")));
}

#[test]
fn compiled_sql_of_every_example_model() {
    let project = TestProject::example("compile");
    // The schema in compiled SQL varies per test run; make it stable for the snapshots.
    project.write(
        "profiles.yml",
        "mart_example:\n  target: ci\n  outputs:\n    ci: {type: postgres, host: 127.0.0.1, user: postgres, dbname: analytics_db, schema: analytics}\n",
    );
    let out = project.mart_expect(&lecture(&["compile"]), 0);
    assert!(
        out.stdout
            .contains("Compiled 8 models, 1 snapshot and 62 tests to target/mart/compiled"),
        "{}",
        out.stdout
    );
    let compiled = project.dir.join("target/mart/compiled/mart_example/models");
    for (folder, name) in [
        ("src", "src_user_event"),
        ("src", "src_user_variant"),
        ("src", "src_user_metadata"),
        ("dim", "dim_user_variant"),
        ("dim", "dim_user_metadata"),
        ("dim", "dim_user"),
        ("fact", "fact_user_event"),
        ("mart", "analytics_variant_user_daily"),
        ("../snapshots", "user_metadata_snapshot"),
    ] {
        let sql =
            std::fs::read_to_string(compiled.join(folder).join(format!("{name}.sql"))).unwrap();
        insta::assert_snapshot!(format!("compiled_{name}"), sql);
    }
    // Tests: generic ones under their property file, singular ones under tests/.
    let root = project.dir.join("target/mart/compiled/mart_example");
    for (path, snapshot) in [
        (
            "models/fact/_fact.yml/relationships_fact_user_event_user_id__user_id__ref_dim_user_.sql",
            "compiled_test_relationships",
        ),
        (
            "models/fact/_fact.yml/accepted_values_fact_user_event_clicked__False__0__1.sql",
            "compiled_test_accepted_values_unquoted",
        ),
        (
            "models/dim/_dim.yml/unique_dim_user_user_id.sql",
            "compiled_test_unique",
        ),
        (
            "tests/assert_paid_amount_only_for_purchases.sql",
            "compiled_test_singular",
        ),
    ] {
        let sql = std::fs::read_to_string(root.join(path)).unwrap();
        insta::assert_snapshot!(snapshot, sql);
    }
}

#[test]
fn example_project_builds_with_every_data_test_passing() {
    let project = TestProject::example("example_build");
    let out = project.mart_expect(&lecture(&["build"]), 0);
    // 3 seeds, 5 models that are built (3 are ephemeral), 1 snapshot, 59 generic and 3
    // singular tests.
    assert!(
        out.stdout
            .contains("Done. PASS=71 WARN=0 ERROR=0 SKIP=0 TOTAL=71"),
        "{}",
        out.stdout
    );
    let singular = project.mart_expect(&lecture(&["test", "-s", "test_type:singular"]), 0);
    assert!(
        singular
            .stdout
            .contains("Done. PASS=3 WARN=0 ERROR=0 SKIP=0 TOTAL=3"),
        "{}",
        singular.stdout
    );
    // Breaking a business rule fails exactly its singular test, with the row count.
    project.execute(&format!(
        "update \"{s}\".fact_user_event set paidamount = 5 where ctid in (select ctid from \"{s}\".fact_user_event where purchased = 0 limit 2)",
        s = project.schema
    ));
    let broken = project.mart_expect(&["test", "-s", "fact_user_event"], 1);
    assert!(
        broken
            .stdout
            .contains("FAIL 2 assert_paid_amount_only_for_purchases"),
        "{}",
        broken.stdout
    );
}

#[test]
fn ls_plus_dim_user_prints_its_ancestors_and_itself() {
    let project = TestProject::example("ls");
    // As in dbt, the tests of the selected nodes are listed too, unless told otherwise.
    let tests = project.mart_expect(&["ls", "-s", "+dim_user", "--resource-type", "test"], 0);
    assert_eq!(tests.stdout.lines().count(), 34, "{}", tests.stdout);
    let out = project.mart_expect(
        &["ls", "-s", "+dim_user", "--indirect-selection", "empty"],
        0,
    );
    insta::assert_snapshot!(out.stdout, @r"
    mart_example.dim.dim_user
    mart_example.dim.dim_user_metadata
    mart_example.dim.dim_user_variant
    mart_example.src.src_user_metadata
    mart_example.src.src_user_variant
    mart_example.user_metadata
    mart_example.user_variant
    ");
    let out = project.mart_expect(
        &[
            "ls",
            "-s",
            "tag:nothing",
            "config.materialized:view",
            "--resource-type",
            "model",
            "--output",
            "name",
            "--exclude",
            "tag:weverse",
        ],
        0,
    );
    assert_eq!(out.stdout, "analytics_variant_user_daily\n");
}

#[test]
fn failed_table_rebuild_keeps_the_old_rows() {
    let project = TestProject::with_files(
        "swap",
        &[(
            "models/numbers.sql",
            "{{ config(materialized='table') }}select n from generate_series(1, 5) as n",
        )],
    );
    project.mart_expect(&["run"], 0);
    let table = format!("\"{}\".numbers", project.schema);
    assert_eq!(project.count(&table), 5);
    project.write(
        "models/numbers.sql",
        "{{ config(materialized='table') }}select n / (n - 3) as n from generate_series(1, 5) as n",
    );
    let out = project.mart_expect(&["run"], 1);
    assert!(out.stdout.contains("division by zero"), "{}", out.stdout);
    assert_eq!(project.count(&table), 5);
    // A leftover from a killed run does not break the next one.
    project.execute(&format!(
        "create table \"{}\".numbers__mart_tmp (x int)",
        project.schema
    ));
    project.write(
        "models/numbers.sql",
        "{{ config(materialized='table') }}select n from generate_series(1, 7) as n",
    );
    project.mart_expect(&["run"], 0);
    assert_eq!(project.count(&table), 7);
}

#[test]
fn a_failed_model_skips_only_its_descendants() {
    let project = TestProject::with_files(
        "skip",
        &[
            ("models/base.sql", "select 1 as id"),
            (
                "models/broken.sql",
                "select id, missing_column from {{ ref('base') }}",
            ),
            (
                "models/after_broken.sql",
                "select * from {{ ref('broken') }}",
            ),
            ("models/sibling.sql", "select * from {{ ref('base') }}"),
        ],
    );
    let out = project.mart_expect(&["run", "--threads", "1"], 1);
    let finished: Vec<String> = out
        .stable_stdout()
        .lines()
        .filter(|l| l.contains(" of 4 ") && !l.contains("START"))
        .map(|l| {
            l.split(" .")
                .next()
                .unwrap_or(l)
                .replace(&project.schema, "<schema>")
        })
        .collect();
    insta::assert_snapshot!(finished.join("\n"), @"
    1 of 4 OK created sql view model <schema>.base
    2 of 4 ERROR creating sql view model <schema>.broken
    3 of 4 SKIP relation sql view model <schema>.after_broken
    4 of 4 OK created sql view model <schema>.sibling
    ");
    let names: Vec<String> = project.relations().into_iter().map(|(_, n, _)| n).collect();
    assert_eq!(names, vec!["base", "sibling"]);
    assert!(
        out.stdout
            .contains("Done. PASS=2 WARN=0 ERROR=1 SKIP=1 TOTAL=4"),
        "{}",
        out.stdout
    );
    // Static analysis stops it before its SQL is sent, at the column.
    assert!(
        out.stdout.contains("broken.sql:1:12: error[MART302]: broken: unknown column 'missing_column': model 'base' has no such column"),
        "{}",
        out.stdout
    );
}

#[test]
fn changing_a_table_to_a_view_replaces_it() {
    let project = TestProject::with_files(
        "kind",
        &[(
            "models/m.sql",
            "{{ config(materialized='table') }}select 1 as a",
        )],
    );
    project.mart_expect(&["run"], 0);
    project.write("models/m.sql", "select 1 as a, 2 as b");
    project.mart_expect(&["run"], 0);
    project.write("models/m.sql", "select 2 as b");
    project.mart_expect(&["run"], 0);
    assert_eq!(
        project.relations(),
        vec![(String::new(), "m".to_string(), "v".to_string())]
    );
    assert_eq!(
        project.query(&format!("select b from \"{}\".m", project.schema)),
        vec![vec![Some("2".to_string())]]
    );
}

fn assert_nothing_created(project: &TestProject) {
    assert!(project.relations().is_empty());
    let schemas = project.query(&format!(
        "select 1 from pg_namespace where nspname = '{}'",
        project.schema
    ));
    assert!(
        schemas.is_empty(),
        "a failed load must not touch the database"
    );
}

#[test]
fn unknown_ref_is_a_one_screen_error_with_file_and_line() {
    let project = TestProject::with_files(
        "unknown",
        &[
            ("models/orders.sql", "select 1 as id"),
            ("models/report.sql", "select *\nfrom {{ ref('ordrs') }}\n"),
        ],
    );
    let out = project.mart_expect(&["run"], 2);
    insta::assert_snapshot!(out.stderr, @r"
    models/report.sql:2:9: error[MART401]: unknown ref 'ordrs'
      |
    2 | from {{ ref('ordrs') }}
      |         ^^^^^^^^^^^^
      = help: did you mean 'orders'?
    ");
    assert_nothing_created(&project);
}

#[test]
fn cycles_and_duplicates_are_errors_that_change_nothing() {
    let project = TestProject::with_files(
        "cycle",
        &[
            ("models/a.sql", "select * from {{ ref('b') }}"),
            ("models/b.sql", "select * from {{ ref('a') }}"),
        ],
    );
    let out = project.mart_expect(&["run"], 2);
    assert!(
        out.stderr
            .contains("error[MART404]: dependency cycle: a -> b -> a"),
        "{}",
        out.stderr
    );
    assert_nothing_created(&project);

    let project = TestProject::with_files(
        "dup",
        &[
            ("models/x/orders.sql", "select 1"),
            ("models/y/orders.sql", "select 2"),
        ],
    );
    let out = project.mart_expect(&["compile"], 2);
    insta::assert_snapshot!(out.stderr, @"
    models/y/orders.sql: error[MART105]: two nodes are named 'orders': models/x/orders.sql and models/y/orders.sql
      = help: rename one of the files: ref() needs names to be unique
    ");
}

#[test]
fn jinja_syntax_and_missing_profile_errors() {
    let project = TestProject::with_files(
        "syntax",
        &[("models/m.sql", "select 1\n{% if true %}\nfrom t\n")],
    );
    let out = project.mart_expect(&["compile"], 2);
    assert!(out.stderr.starts_with("models/m.sql:"), "{}", out.stderr);
    assert!(out.stderr.contains("error[MART201]"), "{}", out.stderr);

    std::fs::remove_file(project.dir.join("profiles.yml")).unwrap();
    let out = project.mart(&["compile"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("error[MART102]: no profiles.yml found"),
        "{}",
        out.stderr
    );
}

#[test]
fn vars_and_selection_reach_the_run() {
    let project = TestProject::with_files(
        "vars",
        &[
            ("models/daily.sql", "{{ config(materialized='table', tags=['daily']) }}select '{{ var(\"date_id\") }}'::date as date_id"),
            ("models/other.sql", "select 1 as x"),
        ],
    );
    project.mart_expect(
        &["run", "-s", "tag:daily", "--vars", "{date_id: 2024-08-20}"],
        0,
    );
    assert_eq!(
        project.relations(),
        vec![(String::new(), "daily".to_string(), "r".to_string())]
    );
    assert_eq!(
        project.query(&format!(
            "select date_id::text from \"{}\".daily",
            project.schema
        )),
        vec![vec![Some("2024-08-20".to_string())]]
    );
    let out = project.mart_expect(&["run", "-s", "daily", "--vars", "[1, 2]"], 2);
    assert!(
        out.stderr.contains("--vars is not a YAML mapping"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_closed_stdout_is_not_a_panic() {
    // Regression: `mart ls | head -1` panicked with "failed printing to stdout".
    let project = TestProject::example("pipe");
    let mut child = project.spawn(&["ls"]);
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn clean_removes_clean_targets_but_never_a_cargo_build() {
    let project = TestProject::with_files(
        "clean",
        &[
            ("dbt_project.yml", "name: fx\nprofile: fx\ntarget-path: target/mart\nclean-targets: [target/mart, logs]\n"),
            ("models/m.sql", "select 1 as a"),
        ],
    );
    project.mart_expect(&["compile"], 0);
    project.write("logs/x.log", "x");
    assert!(project
        .dir
        .join("target/mart/compiled/fx/models/m.sql")
        .exists());
    project.mart_expect(&["clean"], 0);
    assert!(!project.dir.join("target/mart").exists() && !project.dir.join("logs").exists());

    project.write(
        "dbt_project.yml",
        "name: fx\nprofile: fx\nclean-targets: [target, ../outside]\n",
    );
    project.write(
        "target/CACHEDIR.TAG",
        "Signature: 8a477f597d28d172789f06886806bc55",
    );
    let out = project.mart_expect(&["clean"], 2);
    assert!(
        out.stderr
            .contains("is a Cargo build folder; mart will not delete it"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("is not inside the project"),
        "{}",
        out.stderr
    );
    assert!(project.dir.join("target/CACHEDIR.TAG").exists());
}

/// SIGINT (Ctrl-C), SIGTERM (Airflow stopping a task) and SIGHUP: the server-side query is
/// cancelled, the old table stays, what never started is skipped, run_results.json says
/// what finished, and the exit code is 128 + the signal's number.
#[test]
fn signals_cancel_running_queries_and_keep_the_old_table() {
    for (signal, name, code) in [
        ("INT", "Ctrl-C", 130),
        ("TERM", "SIGTERM", 143),
        ("HUP", "SIGHUP", 129),
    ] {
        let project = TestProject::with_files(
            &format!("signal_{}", signal.to_lowercase()),
            &[(
                "models/slow.sql",
                "{{ config(materialized='table') }}select 1 as n",
            )],
        );
        project.mart_expect(&["run"], 0);
        let marker = format!("pg_sleep(30.{code})");
        project.write(
            "models/slow.sql",
            &format!(
                "{{{{ config(materialized='table') }}}}select 2 as n from (select {marker}) s"
            ),
        );
        project.write("models/after.sql", "select * from {{ ref('slow') }}");
        let child = project.spawn(&["run", "--threads", "1"]);
        let active = format!(
            "select 1 from pg_stat_activity where query like '%{marker}%' and pid <> pg_backend_pid()"
        );
        let started = std::time::Instant::now();
        while project.query(&active).is_empty() {
            assert!(
                started.elapsed().as_secs() < 20,
                "the slow model never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let status = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let signalled = std::time::Instant::now();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(code), "{name}: {stdout}");
        // Generous against a loaded machine; the fault-injection suite measures it.
        assert!(
            signalled.elapsed().as_secs() < 5,
            "{name}: the query was not cancelled"
        );
        assert!(
            project.query(&active).is_empty(),
            "{name}: the query still runs on the server"
        );
        assert!(
            stdout.contains(&format!(
                "Interrupted by {name}: running queries were cancelled"
            )),
            "{stdout}"
        );
        assert!(stdout.contains("SKIP relation sql view model"), "{stdout}");
        assert_eq!(
            project.query(&format!("select n from \"{}\".slow", project.schema)),
            vec![vec![Some("1".to_string())]]
        );
        let results: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(project.dir.join("target/run_results.json")).unwrap(),
        )
        .unwrap();
        let statuses: Vec<(&str, &str)> = results["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["unique_id"].as_str().unwrap(),
                    r["status"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            statuses,
            [("model.fx.slow", "error"), ("model.fx.after", "skipped")],
            "{name}"
        );
    }
}

#[test]
fn run_query_reads_the_database_while_rendering() {
    let project = TestProject::with_files(
        "run_query",
        &[(
            "models/answer.sql",
            "{% set result = run_query(\"select 40 + 2 as answer, 'x' as label\") %}\n{{ config(materialized='table') }}\nselect {{ result[0][0] if execute else 0 }} as answer, '{{ result.columns[1].values()[0] if execute else '' }}' as label",
        )],
    );
    project.mart_expect(&["run"], 0);
    assert_eq!(
        project.query(&format!(
            "select answer::text, label from \"{}\".answer",
            project.schema
        )),
        vec![vec![Some("42".to_string()), Some("x".to_string())]]
    );
}

#[test]
fn adapter_looks_up_relations_and_columns_in_the_database() {
    let project = TestProject::with_files(
        "adapter",
        &[
            ("models/base.sql", "{{ config(materialized='table') }}select 1 as id, 'a' as name"),
            (
                "models/probe.sql",
                // The ref inside `if execute` is not seen while parsing: the comment
                // makes the dependency (as in dbt), so base is built first.
                "-- depends_on: {{ ref('base') }}\n\
                 {% set cols = adapter.get_columns_in_relation(ref('base')) if execute else [] %}\n\
                 {% set found = adapter.get_relation(this.database, this.schema, 'base') %}\n\
                 {% set missing = adapter.get_relation(this.database, this.schema, 'nope') %}\n\
                 select '{% for c in cols %}{{ c.name }}:{{ c.data_type }}{% if not loop.last %},{% endif %}{% endfor %}' as columns,\n\
                 {{ 'true' if found else 'false' }} as found, {{ 'true' if missing else 'false' }} as missing, {{ adapter.quote('Mixed') }} as quoted\n\
                 from (select 1 as \"Mixed\") s",
            ),
        ],
    );
    project.mart_expect(&["run"], 0);
    assert_eq!(
        project.query(&format!(
            "select columns, found::text, missing::text, quoted::text from \"{}\".probe",
            project.schema
        )),
        vec![vec![
            Some("id:integer,name:text".to_string()),
            Some("true".to_string()),
            Some("false".to_string()),
            Some("1".to_string()),
        ]]
    );
}

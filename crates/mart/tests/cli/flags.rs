//! dbt's global flags and environment variables: --target-path, --quiet, --log-level,
//! --log-path, and the DBT_* variables read as mart's own.

use crate::harness::TestProject;

fn project() -> TestProject {
    TestProject::with_files(
        "flags",
        &[
            ("models/ok.sql", "select 1 as id"),
            ("models/broken.sql", "select nope from nowhere_at_all"),
            (
                "models/_m.yml",
                "models:\n  - name: ok\n    colums:\n      - name: id\n",
            ),
        ],
    )
}

#[test]
fn dbt_environment_variables_work_unchanged() {
    let p = project();
    // No --project-dir or --profiles-dir: dbt's variables say where things are.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mart"))
        .arg("parse")
        .env("DBT_PROJECT_DIR", &p.dir)
        .env("DBT_PROFILES_DIR", &p.dir)
        .env("DBT_TARGET_PATH", "dbt_target")
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("mart_test_cache"),
        )
        .env_remove("MART_PROJECT_DIR")
        .env_remove("MART_PROFILES_DIR")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(p.dir.join("dbt_target/manifest.json").is_file());
    assert!(!p.dir.join("target/manifest.json").exists());
    // The flag wins over the variable.
    p.mart_with_env(
        &["parse", "--target-path", "flag_target"],
        &[("DBT_TARGET_PATH", "dbt_target")],
    );
    assert!(p.dir.join("flag_target/manifest.json").is_file());
    // DBT_TARGET names a target the profile lacks: the error says so.
    let out = p.mart_with_env(&["parse"], &[("DBT_TARGET", "no_such_target")]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no_such_target"), "{}", out.stderr);
}

#[test]
fn quiet_and_log_level_choose_what_is_shown_and_log_path_keeps_everything() {
    let p = project();
    let out = p.mart_expect(&["run", "--quiet"], 1);
    assert!(!out.stdout.contains("Running with mart"), "{}", out.stdout);
    assert!(!out.stdout.contains("START"), "{}", out.stdout);
    assert!(
        !out.stderr.contains("colums"),
        "warnings are not shown: {}",
        out.stderr
    );
    // The failure is still shown.
    assert!(
        out.stdout.contains("Failure in broken (model.fx.broken)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("relation \"nowhere_at_all\" does not exist"),
        "{}",
        out.stdout
    );

    let out = p.mart_expect(&["parse", "--log-level", "warn"], 0);
    assert!(!out.stdout.contains("Running with"), "{}", out.stdout);
    assert!(out.stderr.contains("colums"), "{}", out.stderr);
    let out = p.mart_expect(&["parse", "--log-level", "none"], 0);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));

    let logs = p.dir.join("logs");
    let out = p.mart(&["run", "--quiet", "--log-path", logs.to_str().unwrap()]);
    assert_eq!(out.code, 1);
    let file = std::fs::read_to_string(logs.join("mart.log")).unwrap();
    assert!(file.contains("START sql view model"), "{file}");
    assert!(file.contains("colums"), "{file}");
    assert!(file.contains("Done. PASS=1"), "{file}");
    assert!(!file.contains('\x1b'), "{file}");
}

#[test]
fn json_log_lines_are_shaped_like_dbts_structured_events() {
    let p = project();
    let out = p.mart_expect(&["run", "--log-format", "json"], 1);
    let events: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    for event in &events {
        for key in [
            "name",
            "code",
            "msg",
            "level",
            "invocation_id",
            "ts",
            "pid",
            "thread",
        ] {
            assert!(!event["info"][key].is_null(), "{key} missing: {event}");
        }
        assert!(event["data"].is_object(), "{event}");
    }
    let named = |name: &str| -> Vec<&serde_json::Value> {
        events
            .iter()
            .filter(|e| e["info"]["name"] == name)
            .collect()
    };
    let starts = named("LogStartLine");
    assert_eq!(starts.len(), 2);
    assert_eq!(starts[0]["info"]["code"], "Q011");
    let results = named("LogModelResult");
    let statuses: Vec<(&str, &str, &str)> = results
        .iter()
        .map(|e| {
            (
                e["data"]["node_info"]["unique_id"].as_str().unwrap(),
                e["data"]["status"].as_str().unwrap(),
                e["info"]["level"].as_str().unwrap(),
            )
        })
        .collect();
    let mut statuses = statuses;
    statuses.sort();
    assert_eq!(
        statuses,
        [
            ("model.fx.broken", "error", "error"),
            ("model.fx.ok", "success", "info")
        ]
    );
    let stats = named("StatsLine");
    assert_eq!(stats[0]["info"]["code"], "Z023");
    assert_eq!(
        stats[0]["data"]["stats"],
        serde_json::json!({"pass": 1, "warn": 0, "error": 1, "skip": 0, "total": 2})
    );
    // The warning about `colums` is an event too (on stderr).
    let warning: serde_json::Value =
        serde_json::from_str(out.stderr.lines().find(|l| l.contains("colums")).unwrap()).unwrap();
    assert_eq!(warning["info"]["level"], "warn");
    assert!(warning["data"]["line"].is_number(), "{warning}");
}

#[test]
fn empty_builds_every_relation_with_its_columns_and_no_rows() {
    let p = TestProject::with_files(
        "flags_empty",
        &[
            ("seeds/people.csv", "id,name\n1,Ann\n2,Bo\n"),
            (
                "models/names.sql",
                "{{ config(materialized='table') }}select id, upper(name) as name from {{ ref('people') }}",
            ),
            ("models/names_view.sql", "select name from {{ ref('names') }}"),
        ],
    );
    p.mart_expect(&["seed"], 0);
    p.mart_expect(&["run", "--empty"], 0);
    let s = &p.schema;
    assert_eq!(p.count(&format!("\"{s}\".names")), 0);
    assert_eq!(
        p.rows(&format!(
            "select column_name || ':' || data_type from information_schema.columns where table_schema = '{s}' and table_name = 'names' order by ordinal_position"
        )),
        ["id:integer", "name:text"]
    );
    let run_sql =
        std::fs::read_to_string(p.dir.join("target/compiled/fx/models/names.sql")).unwrap();
    assert!(
        run_sql.contains(&format!(
            "(select * from \"postgres\".\"{s}\".\"people\" where false limit 0) _dbt_limit_subq_people"
        )),
        "{run_sql}"
    );
    // Without the flag the data is read again.
    p.mart_expect(&["run"], 0);
    assert_eq!(p.count(&format!("\"{s}\".names_view")), 2);
}

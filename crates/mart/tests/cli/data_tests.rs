//! `mart test`, `mart build`, `mart retry` and the artifacts they write, against the real
//! PostgreSQL: every test type passes on good data and fails with the exact count on
//! rows inserted to break it.

// Test support: an artifact that is missing or malformed should fail the test loudly.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use crate::harness::TestProject;

const PROPERTIES: &str = r#"
version: 2
models:
  - name: people
    data_tests:
      - row_count_at_least:
          min_rows: 1
    columns:
      - name: id
        data_tests: [unique, not_null]
      - name: status
        data_tests:
          - accepted_values:
              values: [active, inactive]
          - accepted_values:
              name: status_is_active_warn
              values: [active]
              config: {severity: warn}
      - name: team_id
        data_tests:
          - relationships:
              to: ref('teams')
              field: team_id
          - accepted_values:
              values: [10, 20]
              quote: false
              where: "status = 'active'"
          - is_even:
              warn_if: ">= 1"
              error_if: ">= 2"
      - name: name
        data_tests:
          - not_null:
              store_failures: true
              tags: [audit]
          - unique:
              limit: 1
sources:
  - name: raw
    schema: "{{ target.schema }}"
    tables:
      - name: raw_people
        columns:
          - name: id
            data_tests: [not_null]
"#;

fn tests_project(tag: &str) -> TestProject {
    TestProject::with_files(
        tag,
        &[
            (
                "seeds/raw_people.csv",
                "id,name,status,team_id\n1,ann,active,10\n2,bob,inactive,20\n3,cy,active,10\n",
            ),
            ("seeds/teams.csv", "team_id,team\n10,a\n20,b\n"),
            (
                "models/people.sql",
                "{{ config(materialized='table') }}select * from {{ source('raw', 'raw_people') }}",
            ),
            ("models/_people.yml", PROPERTIES),
            (
                "macros/row_count.sql",
                "{% test row_count_at_least(model, min_rows) %}\nselect n from (select count(*) as n from {{ model }}) c where n < {{ min_rows }}\n{% endtest %}",
            ),
            (
                "tests/generic/is_even.sql",
                "{% test is_even(model, column_name) %}\nselect * from {{ model }} where {{ column_name }} % 2 = 1\n{% endtest %}",
            ),
            (
                "tests/assert_no_blank_names.sql",
                "select * from {{ ref('people') }} where trim(name) = ''",
            ),
        ],
    )
}

fn read_json(project: &TestProject, file: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(project.dir.join("target").join(file)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Each result of the last run_results.json as name -> (status, failures).
fn outcomes(project: &TestProject) -> BTreeMap<String, (String, Option<u64>)> {
    let manifest = read_json(project, "manifest.json");
    let results = read_json(project, "run_results.json");
    results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let id = r["unique_id"].as_str().unwrap();
            let name = manifest["nodes"][id]["name"].as_str().unwrap().to_string();
            (
                name,
                (
                    r["status"].as_str().unwrap().to_string(),
                    r["failures"].as_u64(),
                ),
            )
        })
        .collect()
}

fn expect(pairs: &[(&str, &str, Option<u64>)]) -> BTreeMap<String, (String, Option<u64>)> {
    pairs
        .iter()
        .map(|(n, s, f)| (n.to_string(), (s.to_string(), *f)))
        .collect()
}

#[test]
fn every_test_type_passes_on_good_data_and_counts_the_broken_rows() {
    let project = tests_project("tests");
    project.mart_expect(&["seed"], 0);
    project.mart_expect(&["run"], 0);
    let out = project.mart_expect(&["test"], 0);
    assert!(
        out.stdout
            .contains("Done. PASS=11 WARN=1 ERROR=0 SKIP=0 TOTAL=12"),
        "{}",
        out.stdout
    );
    let good = expect(&[
        (
            "accepted_values_people_status__active__inactive",
            "pass",
            Some(0),
        ),
        (
            "accepted_values_people_team_id__False__10__20",
            "pass",
            Some(0),
        ),
        ("assert_no_blank_names", "pass", Some(0)),
        ("is_even_people_team_id", "pass", Some(0)),
        ("not_null_people_id", "pass", Some(0)),
        ("not_null_people_name", "pass", Some(0)),
        (
            "relationships_people_team_id__team_id__ref_teams_",
            "pass",
            Some(0),
        ),
        ("row_count_at_least_people_1", "pass", Some(0)),
        ("source_not_null_raw_raw_people_id", "pass", Some(0)),
        // Severity warn: 'inactive' is not in [active].
        ("status_is_active_warn", "warn", Some(1)),
        ("unique_people_id", "pass", Some(0)),
        ("unique_people_name", "pass", Some(0)),
    ]);
    assert_eq!(outcomes(&project), good);

    project.execute(&format!(
        "insert into \"{s}\".people (id, name, status, team_id) values \
         (1, 'ann', 'active', 10), \
         (null, 'nul', 'retired', 99), \
         (5, '', 'active', 30), \
         (6, null, 'active', 10), \
         (7, 'bob', 'inactive', 20)",
        s = project.schema
    ));
    let out = project.mart_expect(&["test"], 1);
    let broken = expect(&[
        // 'retired': one value outside the set.
        (
            "accepted_values_people_status__active__inactive",
            "fail",
            Some(1),
        ),
        // where status = 'active': only team 30 counts (99 is 'retired').
        (
            "accepted_values_people_team_id__False__10__20",
            "fail",
            Some(1),
        ),
        ("assert_no_blank_names", "fail", Some(1)),
        // One odd team id (99): warn_if >= 1 but not error_if >= 2.
        ("is_even_people_team_id", "warn", Some(1)),
        ("not_null_people_id", "fail", Some(1)),
        ("not_null_people_name", "fail", Some(1)),
        // Teams 99 and 30 do not exist.
        (
            "relationships_people_team_id__team_id__ref_teams_",
            "fail",
            Some(2),
        ),
        ("row_count_at_least_people_1", "pass", Some(0)),
        ("source_not_null_raw_raw_people_id", "pass", Some(0)),
        ("status_is_active_warn", "warn", Some(2)),
        // id 1 twice.
        ("unique_people_id", "fail", Some(1)),
        // ann and bob twice each, limit 1.
        ("unique_people_name", "fail", Some(1)),
    ]);
    assert_eq!(outcomes(&project), broken);
    assert!(
        out.stdout
            .contains("Done. PASS=2 WARN=2 ERROR=8 SKIP=0 TOTAL=12"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("FAIL 2 relationships_people_team_id__team_id__ref_teams_"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("Failure in test unique_people_id (models/_people.yml)"),
        "{}",
        out.stdout
    );
    // store_failures keeps the failing rows in the audit schema.
    let audit = format!(
        "\"{}_dbt_test__audit\".not_null_people_name",
        project.schema
    );
    assert_eq!(project.count(&audit), 1);

    // Each test's query is in target/compiled, the where config applied.
    let compiled = project.dir.join("target/compiled/fx/models/_people.yml");
    let sql =
        std::fs::read_to_string(compiled.join("accepted_values_people_team_id__False__10__20.sql"))
            .unwrap();
    assert!(
        sql.contains(&format!(
            "from (select * from \"postgres\".\"{}\".\"people\" where status = 'active') dbt_subquery",
            project.schema
        )),
        "{sql}"
    );
    assert!(
        sql.contains("where value_field not in (\n    10,20\n)"),
        "{sql}"
    );
    let singular = std::fs::read_to_string(
        project
            .dir
            .join("target/compiled/fx/tests/assert_no_blank_names.sql"),
    )
    .unwrap();
    assert!(singular.contains("where trim(name) = ''"), "{singular}");

    // Selection: by node (with the tests that read it), tag and test type.
    let count_of = |args: &[&str]| {
        let mut all = vec!["test"];
        all.extend_from_slice(args);
        project.mart(&all);
        outcomes(&project).len()
    };
    assert_eq!(count_of(&["-s", "people"]), 11);
    assert_eq!(count_of(&["-s", "tag:audit"]), 1);
    assert_eq!(count_of(&["-s", "test_type:singular"]), 1);
    assert_eq!(count_of(&["-s", "test_type:generic"]), 11);
    assert_eq!(count_of(&["-s", "source:raw"]), 1);
}

const BUILD_PROPERTIES: &str = "
version: 2
seeds:
  - name: raw_orders
    columns:
      - name: id
        data_tests: [unique]
models:
  - name: orders
    columns:
      - name: id
        data_tests: [not_null]
";

fn build_project(tag: &str, project_extra: &str) -> TestProject {
    TestProject::with_files(
        tag,
        &[
            (
                "dbt_project.yml",
                &format!("name: fx\nprofile: fx\nmodels:\n  fx:\n    +materialized: table\n{project_extra}"),
            ),
            ("seeds/raw_orders.csv", "id,amount\n1,10\n2,20\n2,30\n"),
            ("seeds/_seeds.yml", BUILD_PROPERTIES),
            ("models/orders.sql", "select * from {{ ref('raw_orders') }}"),
            (
                "models/order_totals.sql",
                "select sum(amount) as total from {{ ref('orders') }}",
            ),
            ("models/unrelated.sql", "select 1 as x"),
        ],
    )
}

#[test]
fn build_skips_what_depends_on_a_failed_test_and_retry_finishes_the_job() {
    let project = build_project("build", "");
    let out = project.mart_expect(&["build", "--threads", "1"], 1);
    assert_eq!(
        outcomes(&project),
        expect(&[
            ("not_null_orders_id", "skipped", None),
            ("order_totals", "skipped", None),
            ("orders", "skipped", None),
            ("raw_orders", "success", None),
            ("unique_raw_orders_id", "fail", Some(1)),
            ("unrelated", "success", None),
        ])
    );
    assert!(
        out.stdout
            .contains("Done. PASS=2 WARN=0 ERROR=1 SKIP=3 TOTAL=6"),
        "{}",
        out.stdout
    );
    let names: Vec<String> = project.relations().into_iter().map(|(_, n, _)| n).collect();
    assert_eq!(names, vec!["raw_orders", "unrelated"]);
    // Without store_failures no audit schema is made.
    let audit = project.query(&format!(
        "select count(*) from pg_namespace where nspname = '{}_dbt_test__audit'",
        project.schema
    ));
    assert_eq!(audit[0][0].as_deref(), Some("0"));
    // Build order: the seed, then its test, and only then the model that reads the seed.
    let position = |text: &str| out.stdout.find(text).unwrap();
    assert!(position("OK loaded seed file") < position("FAIL 1 unique_raw_orders_id"));
    assert!(position("FAIL 1 unique_raw_orders_id") < position("SKIP relation sql table model"));

    // Fix the data, then retry: only the failed test and the skipped nodes run.
    project.execute(&format!(
        "delete from \"{}\".raw_orders where amount = 30",
        project.schema
    ));
    let out = project.mart_expect(&["retry"], 0);
    assert!(
        out.stdout
            .contains("Done. PASS=4 WARN=0 ERROR=0 SKIP=0 TOTAL=4"),
        "{}",
        out.stdout
    );
    assert_eq!(
        outcomes(&project),
        expect(&[
            ("not_null_orders_id", "pass", Some(0)),
            ("order_totals", "success", None),
            ("orders", "success", None),
            ("raw_orders", "success", None),
            ("unique_raw_orders_id", "pass", Some(0)),
            ("unrelated", "success", None),
        ])
    );
    let total = project.query(&format!(
        "select total from \"{}\".order_totals",
        project.schema
    ));
    assert_eq!(total[0][0].as_deref(), Some("30"));
    // Nothing left to retry.
    let out = project.mart_expect(&["retry"], 0);
    assert!(out.stdout.contains("Nothing to do"), "{}", out.stdout);
}

#[test]
fn test_output_shows_pass_warn_fail_and_the_failure_count() {
    let project = build_project("test_output", "");
    project.write(
        "models/_orders.yml",
        "models:\n  - name: order_totals\n    columns:\n      - name: total\n        data_tests:\n          - accepted_values: {values: [0], quote: false, severity: warn}\n",
    );
    project.mart_expect(&["seed"], 0);
    project.mart_expect(&["run"], 0);
    let out = project.mart_expect(&["test", "--threads", "1"], 1);
    let lines: Vec<String> = out
        .stable_stdout()
        .lines()
        .filter(|l| l.contains(" of 3 ") && !l.contains("START"))
        .map(str::to_string)
        .collect();
    insta::assert_snapshot!(lines.join("\n"), @r"
    1 of 3 WARN 1 accepted_values_order_totals_total__False__0 ..................... [WARN 1 in N.NNs]
    2 of 3 PASS not_null_orders_id ................................................. [PASS in N.NNs]
    3 of 3 FAIL 1 unique_raw_orders_id ............................................. [FAIL 1 in N.NNs]
    ");
    let summary: Vec<String> = out
        .stable_stdout()
        .lines()
        .skip_while(|l| !l.starts_with("Finished running"))
        .map(str::to_string)
        .collect();
    insta::assert_snapshot!(summary.join("\n"), @r"
    Finished running 3 tests in N.NNs.

    Completed with 1 error and 1 warning:

    Warning in test accepted_values_order_totals_total__False__0 (models/_orders.yml)
      Got 1 result, configured to warn if != 0

      compiled code at target/compiled/fx/models/_orders.yml/accepted_values_order_totals_total__False__0.sql

    Failure in test unique_raw_orders_id (seeds/_seeds.yml)
      Got 1 result, configured to fail if != 0

      compiled code at target/compiled/fx/seeds/_seeds.yml/unique_raw_orders_id.sql

    Done. PASS=1 WARN=1 ERROR=1 SKIP=0 TOTAL=3
    ");
}

#[test]
fn a_warning_test_does_not_skip_anything() {
    // Project-level test config: every test warns instead of failing.
    let project = build_project("warn", "data_tests:\n  fx:\n    +severity: warn\n");
    let out = project.mart_expect(&["build"], 0);
    assert_eq!(
        outcomes(&project),
        expect(&[
            ("not_null_orders_id", "pass", Some(0)),
            ("order_totals", "success", None),
            ("orders", "success", None),
            ("raw_orders", "success", None),
            ("unique_raw_orders_id", "warn", Some(1)),
            ("unrelated", "success", None),
        ])
    );
    assert!(
        out.stdout
            .contains("Done. PASS=5 WARN=1 ERROR=0 SKIP=0 TOTAL=6"),
        "{}",
        out.stdout
    );
}

#[test]
fn retry_without_run_results_says_what_to_do() {
    let project = build_project("noretry", "");
    let out = project.mart_expect(&["retry"], 2);
    assert!(
        out.stderr
            .contains("run mart run, seed, test or build first"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unknown_generic_test_names_the_property_file_line() {
    let project = TestProject::with_files(
        "unknown_test",
        &[
            ("models/m.sql", "select 1 as id"),
            (
                "models/_m.yml",
                "models:\n  - name: m\n    columns:\n      - name: id\n        data_tests: [uniqe]\n",
            ),
        ],
    );
    let out = project.mart_expect(&["test"], 2);
    assert!(
        out.stderr
            .contains("models/_m.yml:5:22: error[MART103]: unknown generic test 'uniqe'"),
        "{}",
        out.stderr
    );
}

#[test]
fn manifest_and_run_results_follow_dbt_and_hold_no_secret() {
    let project = tests_project("artifacts");
    project.write(
        "profiles.yml",
        &format!(
            "fx:\n  target: test\n  outputs:\n    test: {{type: postgres, host: 127.0.0.1, user: postgres, password: s3cret-pw, dbname: postgres, schema: {}}}\n",
            project.schema
        ),
    );
    // parse writes the manifest without touching the database.
    let out = project.mart_expect(&["parse"], 0);
    assert!(
        out.stdout.contains("Wrote target/manifest.json"),
        "{}",
        out.stdout
    );
    assert!(!project.dir.join("target/run_results.json").exists());
    assert_eq!(
        read_json(&project, "manifest.json")["nodes"]
            .as_object()
            .unwrap()
            .len(),
        15
    );
    // Trust auth accepts any password; the point is that it is never written out.
    project.mart_expect(&["build"], 0);
    let manifest = read_json(&project, "manifest.json");
    let run_results = read_json(&project, "run_results.json");
    for text in [manifest.to_string(), run_results.to_string()] {
        assert!(!text.contains("s3cret-pw"));
    }
    assert_eq!(
        manifest["metadata"]["dbt_schema_version"],
        "https://schemas.getdbt.com/dbt/manifest/v12.json"
    );
    assert_eq!(
        run_results["metadata"]["dbt_schema_version"],
        "https://schemas.getdbt.com/dbt/run-results/v6.json"
    );
    let model = &manifest["nodes"]["model.fx.people"];
    assert_eq!(model["resource_type"], "model");
    assert_eq!(model["path"], "people.sql");
    assert_eq!(model["config"]["materialized"], "table");
    assert_eq!(
        model["depends_on"]["nodes"],
        serde_json::json!(["source.fx.raw.raw_people"])
    );
    assert!(model["compiled_code"]
        .as_str()
        .unwrap()
        .contains("from \"postgres\""));
    let tests: Vec<(&String, &serde_json::Value)> = manifest["nodes"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, n)| n["resource_type"] == "test")
        .collect();
    assert_eq!(tests.len(), 12);
    let (id, relationships) = tests
        .iter()
        .find(|(_, n)| n["name"] == "relationships_people_team_id__team_id__ref_teams_")
        .unwrap();
    // test.<project>.<name>.<10 hex digits>
    let hash = id.rsplit('.').next().unwrap();
    assert_eq!(hash.len(), 10);
    assert_eq!(relationships["attached_node"], "model.fx.people");
    assert_eq!(relationships["column_name"], "team_id");
    assert_eq!(relationships["test_metadata"]["name"], "relationships");
    assert_eq!(
        relationships["depends_on"]["nodes"],
        serde_json::json!(["model.fx.people", "seed.fx.teams"])
    );
    assert_eq!(
        manifest["parent_map"][*id],
        serde_json::json!(["model.fx.people", "seed.fx.teams"])
    );
    assert!(manifest["child_map"]["seed.fx.teams"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!(id)));
    assert!(
        manifest["macros"]["macro.fx.test_row_count_at_least"]["macro_sql"]
            .as_str()
            .unwrap()
            .starts_with("{% test row_count_at_least(model, min_rows) %}")
    );
    let results = run_results["results"].as_array().unwrap();
    assert_eq!(results.len(), 15);
    for r in results {
        assert!(r["execution_time"].as_f64().unwrap() >= 0.0);
        assert_eq!(r["timing"].as_array().unwrap().len(), 2);
    }
    assert_eq!(run_results["args"]["which"], "build");
}

#[test]
fn tests_on_snapshot_columns_attach_to_the_snapshot() {
    let project = TestProject::with_files(
        "snapshot_tests",
        &[
            ("seeds/raw_users.csv", "id,v,updated_at\n1,a,2024-01-01\n2,b,2024-01-01\n"),
            (
                "snapshots/users_history.sql",
                "{% snapshot users_history %}\n{{ config(unique_key='id', strategy='timestamp', updated_at='updated_at') }}\nselect * from {{ ref('raw_users') }}\n{% endsnapshot %}\n",
            ),
            (
                "snapshots/_snapshots.yml",
                "snapshots:\n  - name: users_history\n    columns:\n      - name: id\n        data_tests: [not_null]\n      - name: dbt_scd_id\n        data_tests: [unique]\n",
            ),
        ],
    );
    project.mart_expect(&["build"], 0);
    assert_eq!(
        outcomes(&project),
        expect(&[
            ("not_null_users_history_id", "pass", Some(0)),
            ("raw_users", "success", None),
            ("unique_users_history_dbt_scd_id", "pass", Some(0)),
            ("users_history", "success", None),
        ])
    );
    let manifest = read_json(&project, "manifest.json");
    let test = manifest["nodes"]
        .as_object()
        .unwrap()
        .values()
        .find(|n| n["name"] == "not_null_users_history_id")
        .unwrap();
    assert_eq!(test["attached_node"], "snapshot.fx.users_history");
    project.execute(&format!(
        "insert into \"{}\".users_history (id, v) values (null, 'x'), (null, 'y')",
        project.schema
    ));
    project.mart_expect(&["test", "-s", "users_history"], 1);
    assert_eq!(
        outcomes(&project),
        expect(&[
            ("not_null_users_history_id", "fail", Some(2)),
            // Both inserted rows have a NULL dbt_scd_id, which unique does not count.
            ("unique_users_history_dbt_scd_id", "pass", Some(0)),
        ])
    );
}

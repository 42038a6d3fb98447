//! dbt's unit tests (`unit_tests:`) against the real PostgreSQL: dict, csv and sql
//! fixtures typed like the real inputs, overrides, the diff of a failing test, build
//! order (a failing unit test skips its model), selection and run_results.json.

// Test support: an artifact that is missing or malformed should fail the test loudly.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use crate::harness::TestProject;

const UNIT_TESTS: &str = r#"
unit_tests:
  - name: totals_dict
    model: order_totals
    description: sums amounts by status
    given:
      - input: ref('stg_orders')
        rows:
          - {status: a, amount: 10}
          - {status: a, amount: 20}
          - {status: b, amount: 5}
    expect:
      rows:
        - {status: a, total: 30}
        - {status: b, total: 5}
  - name: totals_csv
    model: order_totals
    given:
      - input: ref('stg_orders')
        format: csv
        rows: |
          id,status,amount
          1,a,1.5
          2,a,1.5
    expect:
      format: csv
      rows: |
        status,total,n
        a,3.0,2
  - name: totals_sql
    model: order_totals
    given:
      - input: ref('stg_orders')
        format: sql
        rows: select 1 as id, 7.0 as amount, 'c' as status
    expect:
      rows: [{status: c, n: 1}]
  - name: totals_vars
    model: order_totals
    overrides:
      vars: {min_amount: 10}
      env_vars: {ORDER_LABEL: labelled}
    given:
      - input: ref('stg_orders')
        rows: [{status: a, amount: 10}, {status: a, amount: 11}, {status: a, amount: 12}]
    expect:
      rows: [{status: a, total: 23, label: labelled}]
    config: {tags: [vars]}
  - name: new_orders_only
    model: inc_orders
    overrides:
      macros: {is_incremental: true}
    given:
      - input: ref('stg_orders')
        rows: [{id: 1}, {id: 2}, {id: 3}]
      - input: this
        rows: [{id: 2}]
    expect:
      rows: [{id: 3}]
  - name: totals_sql_fixture
    model: order_totals
    given:
      - input: ref('stg_orders')
        format: sql
        fixture: three_orders
    expect:
      format: csv
      fixture: three_totals
  - name: full_refresh
    model: inc_orders
    overrides:
      macros: {is_incremental: false}
    given:
      - input: ref('stg_orders')
        rows: [{id: 1}, {id: 1}]
      - input: this
        rows: [{id: 2}]
    expect:
      rows: [{id: 1}, {id: 1}]
"#;

fn unit_project(tag: &str, tests: &str) -> TestProject {
    TestProject::with_files(
        tag,
        &[
            (
                "seeds/raw_orders.csv",
                "id,status,amount\n1,a,10.5\n2,b,3\n",
            ),
            (
                "models/stg_orders.sql",
                "select id, status, amount::numeric(10,2) as amount from {{ ref('raw_orders') }}",
            ),
            (
                "models/order_totals.sql",
                "{{ config(materialized='table') }}\nselect status, sum(amount) as total, count(*) as n, '{{ env_var('ORDER_LABEL', 'none') }}' as label\nfrom {{ ref('stg_orders') }}\nwhere amount > {{ var('min_amount', 0) }}\ngroup by status",
            ),
            (
                "models/inc_orders.sql",
                "{{ config(materialized='incremental') }}\nselect id from {{ ref('stg_orders') }}\n{% if is_incremental() %}where id > (select max(id) from {{ this }}){% endif %}",
            ),
            (
                "models/report.sql",
                "select * from {{ ref('order_totals') }}",
            ),
            ("models/_unit.yml", tests),
            (
                "tests/fixtures/three_orders.sql",
                "select 1 as id, 'a' as status, 2.5 as amount union all select 2, 'a', 2.5 union all select 3, 'b', 1",
            ),
            ("tests/fixtures/three_totals.csv", "status,total,n\na,5,2\nb,1,1\n"),
        ],
    )
}

fn read_json(project: &TestProject, file: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(project.dir.join("target").join(file)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// unique_id -> status of the last run_results.json.
fn statuses(project: &TestProject) -> BTreeMap<String, String> {
    read_json(project, "run_results.json")["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["unique_id"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn dict_csv_sql_and_overrides_pass() {
    let project = unit_project("unit_pass", UNIT_TESTS);
    project.mart_expect(&["seed"], 0);
    project.mart_expect(&["run"], 0);
    let out = project.mart_expect(&["test", "-s", "test_type:unit"], 0);
    assert!(
        out.stdout.contains("PASS order_totals::totals_csv"),
        "{}",
        out.stdout
    );
    let ids: Vec<(String, String)> = statuses(&project).into_iter().collect();
    let pass = |name: &str| (format!("unit_test.fx.{name}"), "pass".to_string());
    assert_eq!(
        ids,
        [
            pass("inc_orders.full_refresh"),
            pass("inc_orders.new_orders_only"),
            pass("order_totals.totals_csv"),
            pass("order_totals.totals_dict"),
            pass("order_totals.totals_sql"),
            pass("order_totals.totals_sql_fixture"),
            pass("order_totals.totals_vars"),
        ]
    );
    // The fixture is typed as the real input: numeric(10,2) keeps 1.5 + 1.5 = 3.00.
    let compiled = std::fs::read_to_string(
        project
            .dir
            .join("target/compiled/fx/models/_unit.yml/models/totals_csv.sql"),
    )
    .unwrap();
    assert!(
        compiled.contains(r#"cast('1.5' as numeric(10,2)) as "amount""#),
        "{compiled}"
    );
    assert!(
        compiled.contains("from __dbt__cte__stg_orders"),
        "{compiled}"
    );
    let manifest = read_json(&project, "manifest.json");
    let unit = &manifest["unit_tests"]["unit_test.fx.order_totals.totals_vars"];
    assert_eq!(unit["model"], "order_totals");
    assert_eq!(unit["resource_type"], "unit_test");
    assert_eq!(
        unit["depends_on"]["nodes"],
        serde_json::json!(["model.fx.order_totals"])
    );
    assert_eq!(unit["config"]["tags"], serde_json::json!(["vars"]));
    assert_eq!(unit["overrides"]["vars"]["min_amount"], 10);
    assert_eq!(unit["given"][0]["input"], "ref('stg_orders')");
}

#[test]
fn a_failing_unit_test_prints_the_diff_and_fails() {
    let project = unit_project(
        "unit_fail",
        r#"
unit_tests:
  - name: wrong_total
    model: order_totals
    given:
      - input: ref('stg_orders')
        rows: [{status: a, amount: 1}, {status: b, amount: 2}, {status: b, amount: 2}]
    expect:
      rows: [{status: a, total: 1}, {status: b, total: 5}, {status: b, total: 5}]
"#,
    );
    project.mart_expect(&["seed"], 0);
    project.mart_expect(&["run", "-s", "stg_orders"], 0);
    // `-s order_totals` in `mart test` picks the model's unit tests.
    let out = project.mart_expect(&["test", "-s", "order_totals"], 1);
    let from = out.stable_stdout();
    let summary = &from[from.find("Failure in").unwrap()..];
    insta::assert_snapshot!(summary, @r"
    Failure in unit_test wrong_total (models/_unit.yml)
      actual differs from expected:

      @@ ,status,total
      →  ,b     ,5→4.00
      ---,b     ,5

      compiled code at target/compiled/fx/models/_unit.yml/models/wrong_total.sql

    Done. PASS=0 WARN=0 ERROR=1 SKIP=0 TOTAL=1
    ");
    assert_eq!(
        statuses(&project).into_iter().collect::<Vec<_>>(),
        [(
            "unit_test.fx.order_totals.wrong_total".to_string(),
            "fail".to_string()
        )]
    );
}

#[test]
fn build_runs_unit_tests_before_the_model_and_a_failure_skips_it() {
    let project = unit_project(
        "unit_build",
        r#"
unit_tests:
  - name: wrong_total
    model: order_totals
    given:
      - input: ref('stg_orders')
        rows: [{status: a, amount: 1}]
    expect:
      rows: [{status: a, total: 2}]
  - name: right_ids
    model: inc_orders
    overrides:
      macros: {is_incremental: false}
    given:
      - input: ref('stg_orders')
        rows: [{id: 4}]
    expect:
      rows: [{id: 4}]
"#,
    );
    let out = project.mart_expect(&["build", "--threads", "1"], 1);
    let started: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.split(" START ").nth(1))
        .collect();
    let position = |what: &str| started.iter().position(|l| l.starts_with(what));
    // Each unit test runs after its model's inputs and before its model.
    assert!(
        position("sql view model").unwrap() < position("unit_test inc_orders::right_ids").unwrap()
    );
    assert!(
        position("unit_test inc_orders::right_ids").unwrap()
            < position("sql incremental model").unwrap(),
        "{started:?}"
    );
    assert!(position("unit_test order_totals::wrong_total").is_some());
    assert_eq!(position("sql table model"), None, "{started:?}");
    let status = statuses(&project);
    assert_eq!(status["unit_test.fx.order_totals.wrong_total"], "fail");
    assert_eq!(status["model.fx.order_totals"], "skipped");
    assert_eq!(status["model.fx.report"], "skipped");
    assert_eq!(status["model.fx.inc_orders"], "success");
    let relations: Vec<String> = project.relations().into_iter().map(|r| r.1).collect();
    assert!(
        !relations.contains(&"order_totals".to_string()),
        "{relations:?}"
    );
}

#[test]
fn unit_tests_are_selected_and_listed_like_dbt() {
    let project = unit_project("unit_ls", UNIT_TESTS);
    let ls = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["ls"];
        all.extend(args);
        project
            .mart_expect(&all, 0)
            .stdout
            .lines()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        ls(&["-s", "resource_type:unit_test,tag:vars"]),
        ["unit_test:fx.totals_vars"]
    );
    assert_eq!(
        ls(&["-s", "test_type:unit", "--resource-type", "unit_test"]).len(),
        7
    );
    // Fixture files are not singular tests.
    assert!(ls(&["--resource-type", "test"]).is_empty());
    assert_eq!(ls(&["-s", "totals_sql"]), ["unit_test:fx.totals_sql"]);
    assert_eq!(
        ls(&["-s", "inc_orders", "--resource-type", "unit_test"]),
        ["unit_test:fx.full_refresh", "unit_test:fx.new_orders_only"]
    );
    assert!(ls(&["-s", "test_type:data"]).is_empty());
}

#[test]
fn a_unit_test_of_an_unknown_model_names_the_line() {
    let project = unit_project(
        "unit_unknown",
        "unit_tests:\n  - name: t\n    model: order_total\n    given: []\n    expect: {rows: []}\n",
    );
    let out = project.mart_expect(&["ls"], 2);
    assert!(
        out.stderr.contains("models/_unit.yml:3:5: error[MART401]")
            && out
                .stderr
                .contains("unit test 't' tests unknown model 'order_total'")
            && out.stderr.contains("did you mean 'order_totals'?"),
        "{}",
        out.stderr
    );
}

#[test]
fn columns_the_input_or_the_model_lacks_are_errors() {
    let project = unit_project(
        "unit_columns",
        r#"
unit_tests:
  - name: bad_input_column
    model: order_totals
    given:
      - input: ref('stg_orders')
        rows: [{stauts: a, amount: 1}]
    expect:
      rows: [{status: a}]
  - name: bad_expected_column
    model: order_totals
    given:
      - input: ref('stg_orders')
        rows: [{status: a, amount: 1}]
    expect:
      rows: [{totl: 1}]
"#,
    );
    project.mart_expect(&["seed"], 0);
    project.mart_expect(&["run", "-s", "stg_orders"], 0);
    let out = project.mart_expect(&["test"], 1);
    assert!(
        out.stdout.contains(
            "unit test 'bad_input_column': input ref('stg_orders') has no column 'stauts'; did you mean 'status'?"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "unit test 'bad_expected_column': expected column 'totl' is not a column the model returns"
        ) && out.stdout.contains("did you mean 'total'?"),
        "{}",
        out.stdout
    );
    let status = statuses(&project);
    assert_eq!(
        status["unit_test.fx.order_totals.bad_input_column"],
        "error"
    );
    assert_eq!(
        status["unit_test.fx.order_totals.bad_expected_column"],
        "error"
    );
}

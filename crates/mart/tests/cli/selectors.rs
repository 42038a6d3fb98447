//! selectors.yml: `--selector NAME`, `default: true`, unions, intersections, exclusions,
//! methods with graph operators, selectors of selectors.

use crate::harness::TestProject;

const SELECTORS: &str = "selectors:
  - name: nightly
    description: what runs every night
    default: true
    definition:
      union:
        - method: tag
          value: nightly
          children: true
        - exclude:
            - method: fqn
              value: leaf
  - name: core_models
    definition:
      intersection:
        - 'resource_type:model'
        - method: path
          value: models/core
  - name: both
    definition:
      union:
        - method: selector
          value: nightly
        - method: selector
          value: core_models
  - name: loop_a
    definition: {method: selector, value: loop_b}
  - name: loop_b
    definition: {method: selector, value: loop_a}
";

fn project() -> TestProject {
    TestProject::with_files(
        "selectors",
        &[
            ("selectors.yml", SELECTORS),
            ("models/core/base.sql", "{{ config(tags=['nightly']) }}select 1 as id"),
            ("models/core/mid.sql", "select * from {{ ref('base') }}"),
            ("models/leaf.sql", "select * from {{ ref('mid') }}"),
            ("models/other.sql", "select 2 as id"),
            (
                "models/_m.yml",
                "models:\n  - name: mid\n    columns:\n      - name: id\n        data_tests: [not_null]\n",
            ),
        ],
    )
}

fn listed(p: &TestProject, args: &[&str]) -> Vec<String> {
    let mut all = vec!["ls"];
    all.extend_from_slice(args);
    let out = p.mart_expect(&all, 0);
    out.stdout.lines().map(str::to_string).collect()
}

#[test]
fn named_and_default_selectors_select_as_dbt_does() {
    let p = project();
    // No selection: the default selector.
    assert_eq!(
        listed(&p, &[]),
        ["fx.core.base", "fx.core.mid", "fx.not_null_mid_id"]
    );
    assert_eq!(
        listed(&p, &["--selector", "core_models"]),
        ["fx.core.base", "fx.core.mid", "fx.not_null_mid_id"]
    );
    assert_eq!(
        listed(
            &p,
            &["--selector", "core_models", "--indirect-selection", "empty"]
        ),
        ["fx.core.base", "fx.core.mid"]
    );
    assert_eq!(
        listed(&p, &["--selector", "both"]),
        ["fx.core.base", "fx.core.mid", "fx.not_null_mid_id"]
    );
    // --select replaces the default.
    assert_eq!(listed(&p, &["-s", "other"]), ["fx.other"]);
    // build: tests follow the nodes they test.
    p.mart_expect(&["build"], 0);
    let results: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(p.dir.join("target/run_results.json")).unwrap(),
    )
    .unwrap();
    let mut ran: Vec<&str> = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unique_id"].as_str().unwrap())
        .collect();
    ran.sort();
    assert_eq!(
        ran,
        [
            "model.fx.base",
            "model.fx.mid",
            "test.fx.not_null_mid_id.4e1085279f"
        ]
    );
}

#[test]
fn selector_mistakes_are_errors() {
    let p = project();
    let out = p.mart_expect(&["ls", "--selector", "nightlyy"], 2);
    assert!(
        out.stderr
            .contains("no selector named 'nightlyy' in selectors.yml"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean 'nightly'?"),
        "{}",
        out.stderr
    );
    let out = p.mart_expect(&["ls", "--selector", "loop_a"], 2);
    assert!(
        out.stderr
            .contains("selectors refer to each other in a loop: loop_a -> loop_b -> loop_a"),
        "{}",
        out.stderr
    );
    let out = p.mart_expect(&["ls", "--selector", "nightly", "-s", "other"], 2);
    assert!(out.stderr.contains("cannot be used with"), "{}", out.stderr);
}

#[test]
fn test_name_selects_generic_tests_by_their_test() {
    let p = project();
    assert_eq!(
        listed(&p, &["-s", "test_name:not_null"]),
        ["fx.not_null_mid_id"]
    );
    assert_eq!(
        listed(&p, &["-s", "test_name:not_*", "--resource-type", "test"]),
        ["fx.not_null_mid_id"]
    );
    assert!(listed(&p, &["-s", "test_name:unique"]).is_empty());
}

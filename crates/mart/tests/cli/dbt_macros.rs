//! dbt's macro library as mart embeds it, rendered and run on PostgreSQL: each case of
//! `crates/mart_jinja/tests/fixtures/dbt_macros.yml` becomes a macro (rendered as a
//! run-operation, where `execute` is true as in a compiled model) whose query must give
//! the text the case expects, or whose render must fail with the case's error.

#![allow(clippy::unwrap_used)]

use serde::Deserialize;

use crate::harness::{repo_root, TestProject};

#[derive(Deserialize)]
struct Case {
    call: Option<String>,
    sql: Option<String>,
    expect: Option<String>,
    error: Option<String>,
}

fn cases() -> Vec<Case> {
    let path = repo_root().join("crates/mart_jinja/tests/fixtures/dbt_macros.yml");
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The case's query template.
fn query(i: usize, case: &Case) -> String {
    match (&case.call, &case.sql) {
        (Some(call), None) => format!("select {{{{ {call} }}}} as v"),
        (None, Some(sql)) => sql.clone(),
        _ => panic!("case {i}: give call or sql"),
    }
}

/// `case_<i>()` renders the query, runs it with its value as text (booleans as psql prints
/// them: t/f) and logs `case_<i>=v`.
fn case_macro(i: usize, case: &Case) -> String {
    format!(
        "{{% macro case_{i}() %}}{{% set q %}}{}{{% endset %}}{{% set r = run_query('select case when pg_typeof(v)::text = $$boolean$$ then left(v::text, 1) else v::text end as v from (' ~ q ~ ') as case_query') %}}{{% set v = r.columns[0].values()[0] if r.rows | length else 'NO ROWS' %}}{{{{ log('case_{i}=' ~ (v if v is not none else ''), info=True) }}}}{{% endmacro %}}\n",
        query(i, case)
    )
}

#[test]
fn every_dbt_macro_renders_and_runs_as_dbt_postgres_does() {
    let cases = cases();
    assert!(cases.len() >= 150, "{} cases", cases.len());
    let mut macros = String::new();
    let mut all = String::from("{% macro all_cases() %}");
    for (i, case) in cases.iter().enumerate() {
        macros.push_str(&case_macro(i, case));
        if case.error.is_none() {
            all.push_str(&format!("{{% do case_{i}() %}}"));
        }
    }
    all.push_str("{% endmacro %}\n");
    macros.push_str(&all);
    let p = TestProject::with_files("dbt_macros", &[("macros/cases.sql", &macros)]);
    let out = p.mart_expect(&["run-operation", "all_cases"], 0);
    let mut mismatches = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        match (&case.expect, &case.error) {
            (Some(expect), None) => {
                let prefix = format!("case_{i}=");
                let got = out
                    .stdout
                    .lines()
                    .find_map(|l| l.split_once(&prefix).map(|(_, v)| v.to_string()));
                if got.as_deref() != Some(expect.as_str()) {
                    mismatches.push(format!(
                        "case {i} ({}): expected {expect:?}, got {got:?}",
                        query(i, case)
                    ));
                }
            }
            (None, Some(error)) => {
                let out = p.mart(&["run-operation", &format!("case_{i}")]);
                let text = format!("{}{}", out.stdout, out.stderr);
                if out.code == 0 || !text.contains(error.as_str()) {
                    mismatches.push(format!("case {i}: expected the error {error:?}: {text}"));
                }
            }
            _ => panic!("case {i}: give expect or error"),
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

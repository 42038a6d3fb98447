//! `mart show` and `mart compile --inline`, against the real PostgreSQL.

use crate::harness::{Output, TestProject};

fn project() -> TestProject {
    TestProject::with_files(
        "show",
        &[
            (
                "seeds/people.csv",
                "id,name,active\n1,Ann,true\n2,Bo,false\n3,Cy,true\n",
            ),
            (
                "models/people_named.sql",
                "select id, upper(name) as name, active, id * 1.5 as score, null::text as note from {{ ref('people') }} order by id",
            ),
            (
                "models/eph.sql",
                "{{ config(materialized='ephemeral') }}select id from {{ ref('people') }} where active",
            ),
        ],
    )
}

/// What the command printed after its opening lines.
fn shown(out: &Output) -> String {
    out.stable_stdout()
        .lines()
        .filter(|l| !l.contains("Running with mart") && !l.contains("Found "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn show_previews_a_node_or_inline_sql() {
    let p = project();
    p.mart_expect(&["seed"], 0);
    // Never built: show runs the compiled query, not the relation.
    let out = p.mart_expect(&["show", "-s", "people_named", "--limit", "2"], 0);
    insta::assert_snapshot!("show_model_limit_2", shown(&out));
    let out = p.mart_expect(&["show", "-s", "people_named", "--output", "json"], 0);
    insta::assert_snapshot!("show_model_json", shown(&out));
    let out = p.mart_expect(
        &[
            "show",
            "--inline",
            "select e.id from {{ ref('eph') }} e order by e.id desc",
            "--limit",
            "-1",
        ],
        0,
    );
    insta::assert_snapshot!("show_inline_with_an_ephemeral", shown(&out));
    let out = p.mart_expect(&["show", "-s", "people"], 0);
    insta::assert_snapshot!("show_seed", shown(&out));
}

#[test]
fn show_refuses_what_it_cannot_preview() {
    let p = project();
    let many = p.mart_expect(&["show", "-s", "people+"], 2);
    assert!(
        many.stderr.contains(
            "mart show previews one node; the selection matches 3: eph, people_named, people"
        ),
        "{}",
        many.stderr
    );
    let none = p.mart_expect(&["show"], 2);
    assert!(
        none.stderr.contains("mart show needs --select or --inline"),
        "{}",
        none.stderr
    );
    let unknown = p.mart_expect(
        &["show", "--inline", "select * from {{ ref('peeple') }}"],
        2,
    );
    assert!(
        unknown.stderr.contains("did you mean"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn compile_inline_prints_the_sql_with_refs_and_ephemerals_resolved() {
    let p = project();
    let out = p.mart_expect(
        &[
            "compile",
            "--inline",
            "select count(*) from {{ ref('eph') }}",
        ],
        0,
    );
    insta::assert_snapshot!("compile_inline", shown(&out).replace(&p.schema, "<schema>"));
}

//! Static analysis end to end: where compile, run and build stop a broken model, what
//! each `static_analysis` mode does, PostgreSQL's parser as the judge of what mart's
//! does not read, and diagnostics at the model's own line.

#![allow(clippy::unwrap_used)]

use crate::harness::{Output, TestProject};

const USERS: &str = "id,name,email\n1,ann,ann@x\n2,bob,bob@x\n";

fn project(tag: &str, models: &[(&str, &str)]) -> TestProject {
    let mut files = vec![
        ("seeds/users.csv", USERS),
        (
            "models/sources.yml",
            "version: 2\nsources:\n  - name: raw\n    schema: \"{{ target.schema }}\"\n    tables:\n      - name: events\n      - name: pending\n",
        ),
        (
            "models/people.sql",
            "select id, name as full_name, email from {{ ref('users') }}\n",
        ),
    ];
    files.extend_from_slice(models);
    let project = TestProject::with_files(tag, &files);
    project.execute(&format!(
        "create schema if not exists \"{0}\"; create table \"{0}\".events (id int, kind text)",
        project.schema
    ));
    project
}

/// stdout (stamps removed) and stderr.
fn shown(out: &Output) -> String {
    format!("{}\n{}", out.stable_stdout(), out.stderr)
        .trim()
        .to_string()
}

#[test]
fn compile_reports_at_the_models_own_line_with_did_you_mean() {
    let project = project(
        "sa_compile",
        &[(
            "models/typo.sql",
            "{{ config(materialized='table') }}\n{% set cols = ['id', 'emial'] %}\nselect\n{% for c in cols %}\n    {{ c }}{{ ',' if not loop.last }}\n{% endfor %}\nfrom {{ ref('people') }}\n",
        )],
    );
    let out = project.mart_expect(&["compile"], 1);
    insta::assert_snapshot!(shown(&out), @r"
    models/typo.sql:5:5: error[MART302]: typo: unknown column 'emial': model 'people' has no such column
      |
    5 |     {{ c }}{{ ',' if not loop.last }}
      |     ^^^^^
      = note: in the compiled SQL: target/compiled/fx/models/typo.sql:7:5
      = help: did you mean 'email'?
    ");
}

#[test]
fn modes_strict_baseline_and_off() {
    let project = project(
        "sa_modes",
        &[
            ("models/typo.sql", "select nmae from {{ ref('people') }}\n"),
            (
                "models/from_source.sql",
                "select id, kind from {{ source('raw', 'events') }}\n",
            ),
        ],
    );
    project.mart_expect(&["seed"], 0);
    // baseline: the typo fails (its SQL never sent), the source's columns are unknown.
    let out = project.mart_expect(&["run"], 1);
    let text = shown(&out);
    assert!(
        text.contains("Done. PASS=2 WARN=0 ERROR=1 SKIP=0 TOTAL=3"),
        "{text}"
    );
    assert!(text.contains("models/typo.sql:1:8: error[MART302]: typo: unknown column 'nmae': model 'people' has no such column"), "{text}");
    // strict: the catalog proves the columns of raw.events; a source table not in it
    // leaves them unproven, which fails too, and nothing runs.
    project.execute(&format!("drop view \"{}\".people", project.schema));
    let out = project.mart_expect(
        &[
            "compile",
            "-s",
            "from_source",
            "--static-analysis",
            "strict",
        ],
        0,
    );
    assert!(!shown(&out).contains("MART306"), "{}", shown(&out));
    project.write(
        "models/from_source.sql",
        "select id, kind from {{ source('raw', 'pending') }}\n",
    );
    let out = project.mart_expect(&["run", "--static-analysis", "strict"], 1);
    let text = shown(&out);
    assert!(text.contains("error[MART306]: from_source: 2 column reference(s) read relations whose columns are not known"), "{text}");
    assert!(text.contains("nothing was run"), "{text}");
    let names: Vec<String> = project.relations().into_iter().map(|(_, n, _)| n).collect();
    assert!(!names.contains(&"people".to_string()), "{names:?}");
    // off: PostgreSQL is the first to see the typo.
    let out = project.mart_expect(&["run", "--static-analysis", "off", "-s", "+typo"], 1);
    assert!(shown(&out).contains("error[MART501]: column \"nmae\" does not exist"));
    // The config turns it off for one model.
    project.write(
        "models/typo.sql",
        "{{ config(static_analysis='off') }}\nselect nmae from {{ ref('people') }}\n",
    );
    project.mart_expect(&["compile"], 0);
    project.write(
        "models/typo.sql",
        "{{ config(static_analysis='sometimes') }}\nselect 1\n",
    );
    let out = project.mart_expect(&["compile"], 2);
    assert!(shown(&out).contains("models/typo.sql:1:11: error[MART104]: config 'static_analysis' must be one of strict, baseline, off, found 'sometimes'"), "{}", shown(&out));
}

#[test]
fn postgres_judges_what_the_sql_parser_does_not_read() {
    let project = project(
        "sa_judge",
        &[
            // PostgreSQL reads it; mart's parser does not: a note, and it builds.
            ("models/gap.sql", "select xmlelement(name foo) as x\n"),
            // Neither reads it: the alias must come before tablesample.
            (
                "models/broken.sql",
                "select id from {{ ref('people') }} tablesample system (10) p\n",
            ),
        ],
    );
    project.mart_expect(&["seed"], 0);
    let out = project.mart_expect(&["run"], 1);
    let text = shown(&out);
    assert!(text.contains("models/gap.sql: note[MART305]: gap: static analysis skipped: the SQL parser does not read this statement (Expected: ), found: foo; PostgreSQL accepts it)"), "{text}");
    assert!(
        text.contains(
            "models/broken.sql:1:1: error[MART301]: broken: syntax error at or near \"p\""
        ),
        "{text}"
    );
    assert!(
        text.contains("Done. PASS=2 WARN=0 ERROR=1 SKIP=0 TOTAL=3"),
        "{text}"
    );
    assert_eq!(project.count(&format!("\"{}\".gap", project.schema)), 1);
}

#[test]
fn a_second_compile_reuses_the_analysis_and_reports_the_same() {
    let project = project(
        "sa_cache",
        &[(
            "models/typo.sql",
            "select id,, name from {{ ref('people') }}\n",
        )],
    );
    let first = shown(&project.mart_expect(&["compile"], 1));
    assert!(project.dir.join("target/static_analysis.msgpack").exists());
    let second = shown(&project.mart_expect(&["compile"], 1));
    assert_eq!(first, second);
    assert!(first.contains("models/typo.sql:1:11: error[MART301]: typo: syntax error: Expected: an expression, found: ,"), "{first}");
    // Fixed upstream, the model's analysis is done again.
    project.write(
        "models/typo.sql",
        "select id, full_name from {{ ref('people') }}\n",
    );
    project.mart_expect(&["compile"], 0);
}

#[test]
fn derived_types_fill_the_manifests_undeclared_data_types() {
    let project = project(
        "sa_types",
        &[
            (
                "models/typed.sql",
                "select id, full_name, 1 as one, 'x' as label, id::bigint as big, now() as at, id + 1 as next from {{ ref('people') }}\n",
            ),
            (
                "models/typed.yml",
                "version: 2\nmodels:\n  - name: typed\n    columns:\n      - name: id\n      - name: full_name\n        data_type: varchar(20)\n      - name: one\n      - name: label\n      - name: big\n      - name: at\n      - name: next\n",
            ),
        ],
    );
    project.mart_expect(&["compile"], 0);
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(project.dir.join("target/manifest.json")).unwrap(),
    )
    .unwrap();
    let columns = &manifest["nodes"]["model.fx.typed"]["columns"];
    let types: Vec<String> = ["id", "full_name", "one", "label", "big", "at", "next"]
        .iter()
        .map(|c| format!("{c}: {}", columns[c]["data_type"]))
        .collect();
    // The seed's inferred id type, the declared type kept, literals, a cast, a function,
    // and arithmetic, whose type the analysis does not derive (left null, as dbt does).
    assert_eq!(
        types,
        [
            "id: \"integer\"",
            "full_name: \"varchar(20)\"",
            "one: \"integer\"",
            "label: \"text\"",
            "big: \"bigint\"",
            "at: \"timestamp with time zone\"",
            "next: null"
        ]
    );
}

#[test]
fn parse_analyses_every_node_and_off_skips_it() {
    let project = project(
        "sa_parse",
        &[("models/typo.sql", "select nmae from {{ ref('people') }}\n")],
    );
    let out = project.mart_expect(&["parse"], 1);
    assert!(shown(&out).contains("models/typo.sql:1:8: error[MART302]: typo: unknown column 'nmae': model 'people' has no such column"), "{}", shown(&out));
    assert!(project.dir.join("target/manifest.json").exists());
    let out = project.mart_expect(&["parse", "--static-analysis", "off"], 0);
    assert!(!shown(&out).contains("MART302"), "{}", shown(&out));
    // Fixed, the next parse finds nothing, and the one after it (nothing changed) does
    // not render the project again; a change is analysed again.
    project.write(
        "models/typo.sql",
        "select full_name from {{ ref('people') }}\n",
    );
    project.mart_expect(&["parse"], 0);
    let skipped = "the saved parse is unchanged since a parse that found nothing";
    for _ in 0..2 {
        let out = project.mart_expect(&["parse", "--log-level", "debug"], 0);
        assert!(shown(&out).contains(skipped), "{}", shown(&out));
    }
    // A one-node compile of the same saved parse updates manifest.json in place (as the
    // runs of Airflow tasks do): the parse after it still skips. A full write does not.
    project.mart_expect(&["compile", "-s", "typo"], 0);
    let out = project.mart_expect(&["parse", "--log-level", "debug"], 0);
    assert!(shown(&out).contains(skipped), "{}", shown(&out));
    project.mart_expect(&["compile", "-s", "typo", "--no-partial-parse"], 0);
    let out = project.mart_expect(&["parse", "--log-level", "debug"], 0);
    assert!(!shown(&out).contains(skipped), "{}", shown(&out));
    let out = project.mart_expect(&["parse", "--log-level", "debug"], 0);
    assert!(shown(&out).contains(skipped), "{}", shown(&out));
    project.write("models/typo.sql", "select nmae from {{ ref('people') }}\n");
    let out = project.mart_expect(&["parse", "--log-level", "debug"], 1);
    assert!(
        !shown(&out).contains(skipped) && shown(&out).contains("MART302"),
        "{}",
        shown(&out)
    );
}

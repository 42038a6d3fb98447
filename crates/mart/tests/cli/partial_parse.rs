//! The saved parse (target/partial_parse/<settings>.msgpack): reused while the project is unchanged,
//! redone when a file, an environment variable read by env_var(), the vars or the target
//! change, and skipped with --no-partial-parse.

use crate::harness::TestProject;

/// The one saved parse in the project's target folder.
#[allow(clippy::unwrap_used)] // a test helper: a missing file fails the test
pub fn saved_parse(p: &TestProject) -> std::path::PathBuf {
    let files: Vec<_> = std::fs::read_dir(p.dir.join("target/partial_parse"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

#[test]
fn saved_parse_follows_every_change_of_what_the_parse_read() {
    let p = TestProject::with_files(
        "partial_parse",
        &[
            (
                "models/a.sql",
                "{{ config(alias=env_var('MART_PP_ALIAS', 'a_default') ~ var('suffix', '')) }}\nselect 1 as v\n",
            ),
            ("models/b.sql", "select v from {{ ref('a') }}\n"),
        ],
    );
    let compiled_b = |p: &TestProject, env: &[(&str, &str)], args: &[&str]| {
        let mut all = vec!["compile", "-s", "b"];
        all.extend_from_slice(args);
        let out = p.mart_with_env(&all, env);
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        std::fs::read_to_string(p.dir.join("target/compiled/fx/models/b.sql")).unwrap()
    };
    let relation = |alias: &str| format!("select v from \"postgres\".\"{}\".\"{alias}\"", p.schema);

    assert_eq!(compiled_b(&p, &[], &[]), relation("a_default"));
    let saved = saved_parse(&p);
    let first = std::fs::metadata(&saved).unwrap().modified().unwrap();
    // Unchanged: read back, not written again.
    assert_eq!(compiled_b(&p, &[], &[]), relation("a_default"));
    assert_eq!(
        std::fs::metadata(&saved).unwrap().modified().unwrap(),
        first
    );

    // An environment variable the parse read.
    assert_eq!(
        compiled_b(&p, &[("MART_PP_ALIAS", "a_env")], &[]),
        relation("a_env")
    );
    // Vars.
    assert_eq!(
        compiled_b(
            &p,
            &[("MART_PP_ALIAS", "a_env")],
            &["--vars", "{suffix: _v2}"]
        ),
        relation("a_env_v2")
    );
    // A model edited to the same length, and a new model that b now reads.
    p.write(
        "models/a.sql",
        "{{ config(alias=env_var('MART_PP_ALIAS', 'a_edited') ~ var('suffix', '')) }}\nselect 1 as v\n",
    );
    assert_eq!(compiled_b(&p, &[], &[]), relation("a_edited"));
    p.write("models/c.sql", "select 2 as v\n");
    p.write("models/b.sql", "select v from {{ ref('c') }}\n");
    assert_eq!(compiled_b(&p, &[], &[]), relation("c"));
    let ls = p.mart_expect(&["ls", "-s", "+b"], 0);
    assert_eq!(ls.stdout, "fx.b\nfx.c\n");

    // A one-node run from the saved parse, as an Airflow task runs: it reads b's parent
    // from the saved parse for the relation, and still writes every node to manifest.json.
    p.mart_expect(&["run", "-s", "+b"], 0);
    let modified = std::fs::metadata(&saved).unwrap().modified().unwrap();
    p.execute(&format!("drop view \"{}\".\"b\"", p.schema));
    p.mart_expect(&["run", "-s", "b"], 0);
    assert_eq!(
        std::fs::metadata(&saved).unwrap().modified().unwrap(),
        modified
    );
    assert_eq!(
        p.rows(&format!("select v from \"{}\".\"b\"", p.schema)),
        ["2"]
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.dir.join("target/manifest.json")).unwrap())
            .unwrap();
    let mut nodes: Vec<&String> = manifest["nodes"].as_object().unwrap().keys().collect();
    nodes.sort();
    assert_eq!(nodes, ["model.fx.a", "model.fx.b", "model.fx.c"]);
    assert_eq!(
        manifest["nodes"]["model.fx.b"]["compiled_code"],
        relation("c")
    );

    // --no-partial-parse neither reads nor writes it.
    std::fs::remove_file(&saved).unwrap();
    assert_eq!(compiled_b(&p, &[], &["--no-partial-parse"]), relation("c"));
    assert!(!saved.exists());
}

#[test]
fn a_damaged_saved_parse_is_parsed_again() {
    let p = TestProject::with_files("partial_parse_bad", &[("models/a.sql", "select 1 as v\n")]);
    p.mart_expect(&["ls"], 0);
    let saved = saved_parse(&p);
    let mut bytes = std::fs::read(&saved).unwrap();
    let half = bytes.len() / 2;
    bytes.truncate(half);
    std::fs::write(&saved, &bytes).unwrap();
    let out = p.mart_expect(&["ls"], 0);
    assert_eq!(out.stdout, "fx.a\n");
    assert!(std::fs::read(&saved).unwrap().len() > half);
}

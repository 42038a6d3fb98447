//! The static analysis corpus: a small project (`static_analysis_corpus/`) whose
//! `*/corpus/` files are broken models, a singular test and an analysis, one mistake
//! each, beside a few valid ones (first line `-- (valid)`). Each corpus file is an insta
//! snapshot of what `mart compile` reports for it, at its own line, with PostgreSQL's
//! own verdict on the compiled SQL (for a contract, on the model's build): every broken
//! file must be rejected by PostgreSQL too (so no report is a false positive), every
//! valid one accepted, and the valid base models must report nothing.

// Test support: a broken fixture should fail the test loudly.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;

use crate::harness::TestProject;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/cli/static_analysis_corpus"
);

/// Every file of the corpus project as (path relative to it, text).
fn project_files(dir: &Path, prefix: &str, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = format!("{prefix}{name}");
        if entry.file_type().unwrap().is_dir() {
            project_files(&entry.path(), &format!("{path}/"), out);
        } else {
            out.push((path, std::fs::read_to_string(entry.path()).unwrap()));
        }
    }
}

/// A file's name without its folder and extension.
fn stem(path: &str) -> String {
    Path::new(path)
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// A diagnostic's first line names the file it is in: `path:line:col: error[..]` or
/// `path: note[..]`. Its other lines are indented, `=` notes, `N |` excerpt lines, or a
/// table of its message (`| a | b |`, after a blank line).
fn is_continuation(line: &str) -> bool {
    line.starts_with([' ', '=', '|'])
        || line
            .split_once(" |")
            .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The diagnostics of `output`, grouped by the file stem they name.
fn diagnostics_by_file(output: &str) -> BTreeMap<String, Vec<String>> {
    let lines: Vec<&str> = output.lines().collect();
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if !line.contains("[MART") || is_continuation(line) {
            continue;
        }
        let stem = stem(line.split(':').next().unwrap());
        let mut block = vec![line.to_string()];
        while i < lines.len() {
            let blank_then_more =
                lines[i].is_empty() && lines.get(i + 1).is_some_and(|l| l.starts_with('|'));
            if !(is_continuation(lines[i]) || blank_then_more) {
                break;
            }
            block.push(lines[i].to_string());
            i += 1;
        }
        found.entry(stem).or_default().push(block.join("\n"));
    }
    found
}

/// What building the model with the analysis off says of its contract.
fn contract_verdict(project: &TestProject, model: &str) -> Result<(), String> {
    let out = project.mart(&["run", "-s", model, "--static-analysis", "off"]);
    if out.code == 0 {
        return Ok(());
    }
    let text = format!("{}\n{}", out.stable_stdout(), out.stderr);
    assert!(
        text.contains("has an enforced contract that failed"),
        "{model}: not a contract failure:\n{text}"
    );
    let table: Vec<&str> = text.lines().filter(|l| l.starts_with('|')).collect();
    Err(format!("the contract check fails:\n{}", table.join("\n")))
}

#[test]
fn every_broken_model_is_reported_at_its_line_and_postgres_agrees() {
    let mut files = Vec::new();
    project_files(Path::new(CORPUS), "", &mut files);
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let mut project = TestProject::with_files("sa_corpus", &borrowed);
    // A schema name of fixed length: the compiled SQL's columns in the snapshots depend on
    // it. One run of the corpus at a time (the leftovers of a crashed one are dropped).
    project.schema = "mart_test_static_analysis_corpus".to_string();
    project.write(
        "profiles.yml",
        &format!(
            "fx:\n  target: test\n  outputs:\n    test:\n      type: postgres\n      host: 127.0.0.1\n      port: 5432\n      user: postgres\n      dbname: postgres\n      schema: {}\n      threads: 4\n",
            project.schema
        ),
    );
    project.execute(&format!(
        "drop schema if exists \"{0}\" cascade;
         create schema \"{0}\";
         create table \"{0}\".events (event_id int, user_id int, kind text, created_at timestamp);
         create table \"{0}\".sessions (user_id int, started_at timestamp)",
        project.schema
    ));
    let corpus: Vec<&(String, String)> = files
        .iter()
        .filter(|(p, _)| p.contains("/corpus/") && p.ends_with(".sql"))
        .collect();
    let valid = |text: &str| text.starts_with("-- (valid)");
    let broken = corpus.iter().filter(|(_, t)| !valid(t)).count();
    assert!(broken >= 40, "the corpus holds {broken} broken files");

    // The relations the corpus reads, built with the analysis on: the valid files pass it.
    project.mart_expect(&["seed"], 0);
    let mut build = vec!["run", "-s", "path:models/base"];
    let valid_models: Vec<String> = corpus
        .iter()
        .filter(|(p, t)| valid(t) && p.starts_with("models/"))
        .map(|(p, _)| stem(p))
        .collect();
    build.extend(valid_models.iter().map(String::as_str));
    project.mart_expect(&build, 0);

    let out = project.mart_expect(&["compile"], 1);
    let reported = diagnostics_by_file(&format!("{}\n{}", out.stdout, out.stderr));
    let stems: Vec<String> = corpus.iter().map(|(p, _)| stem(p)).collect();
    let outside: Vec<&String> = reported.keys().filter(|s| !stems.contains(s)).collect();
    assert!(
        outside.is_empty(),
        "reports outside the corpus (false positives): {outside:?}\n{reported:#?}"
    );

    // PostgreSQL's verdict on each compiled file, the analysis off so that all compile.
    project.mart_expect(&["compile", "--static-analysis", "off"], 0);
    for ((path, text), stem) in corpus.iter().zip(&stems) {
        let compiled = project.dir.join("target/compiled/corpus").join(path);
        let sql = std::fs::read_to_string(&compiled)
            .unwrap_or_else(|e| panic!("{}: {e}", compiled.display()));
        // A contract is PostgreSQL's to check only when mart builds the model.
        let verdict = if text.starts_with("-- (contract)") {
            contract_verdict(&project, stem)
        } else {
            project.try_execute(&sql)
        };
        let diagnostics = reported
            .get(stem)
            .map(|d| d.join("\n\n"))
            .unwrap_or_default();
        if valid(text) {
            assert!(
                verdict.is_ok(),
                "{path}: PostgreSQL rejects a valid file: {verdict:?}"
            );
            assert!(!diagnostics.contains("error["), "{path}: {diagnostics}");
        } else {
            assert!(
                diagnostics.contains("error["),
                "{path}: no error reported\n{}",
                out.stderr
            );
            let Err(rejected) = verdict else {
                panic!("{path}: PostgreSQL accepts it, so the report is a false positive:\n{diagnostics}")
            };
            insta::assert_snapshot!(
                format!("static_analysis_corpus_{stem}"),
                format!("{diagnostics}\n\nPostgreSQL: {rejected}")
            );
            continue;
        }
        if !diagnostics.is_empty() {
            insta::assert_snapshot!(format!("static_analysis_corpus_{stem}"), diagnostics);
        }
    }
}

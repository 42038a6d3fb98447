//! The malformed-project corpus: broken projects (bad YAML, missing files, unknown keys,
//! bad refs, cycles, Jinja errors, bad configs, selectors, vars, profiles, seeds, tests
//! ...), each defined in `malformed/cases.yml` as a set of files and a mart command. Each
//! case is an insta snapshot of the exit code and of stdout and stderr (temp paths,
//! schema names, clock stamps and durations normalized), and no case may panic.

// Test support: a malformed fixture file should fail the test loudly.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::harness::TestProject;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    /// The mart arguments (the harness adds --project-dir and --profiles-dir).
    args: Vec<String>,
    /// Files of the project; a default dbt_project.yml unless one is given.
    #[serde(default)]
    files: BTreeMap<String, String>,
    /// Written over the harness's profiles.yml.
    #[serde(default)]
    profiles: Option<String>,
    /// Files removed after writing (dbt_project.yml, profiles.yml).
    #[serde(default)]
    remove: Vec<String>,
}

const CASES: &str = include_str!("malformed/cases.yml");

fn cases() -> Vec<Case> {
    let cases: Vec<Case> = serde_yaml::from_str(CASES).unwrap();
    let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "case names must be unique");
    cases
}

/// What a case shows: its command, exit code, stdout and stderr, made stable.
fn run(case: &Case) -> String {
    let files: Vec<(&str, &str)> = case
        .files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let project = TestProject::with_files("malformed", &files);
    if let Some(profiles) = &case.profiles {
        project.write(
            "profiles.yml",
            &profiles.replace("<schema>", &project.schema),
        );
    }
    for path in &case.remove {
        std::fs::remove_file(project.dir.join(path)).unwrap();
    }
    let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
    let out = project.mart(&args);
    let all = format!("{}\n{}", out.stdout, out.stderr);
    assert!(
        !all.contains("panicked") && out.code != 101,
        "case {} panicked:\n{all}",
        case.name
    );
    assert!(
        matches!(out.code, 0..=2),
        "case {}: exit code {}\n{all}",
        case.name,
        out.code
    );
    let stable = |text: &str| {
        let text = text
            .replace(&project.dir.display().to_string(), "<project>")
            .replace(&project.schema, "<schema>")
            .replace(env!("CARGO_PKG_VERSION"), "<version>");
        without_padding(&text)
    };
    format!(
        "$ mart {}\nexit code: {}\n--- stdout\n{}\n--- stderr\n{}",
        case.args.join(" "),
        out.code,
        stable(&out.stable_stdout()),
        stable(&out.stderr)
    )
}

/// Node lines pad their name with dots to a width; the schema name's length varies.
fn without_padding(text: &str) -> String {
    text.lines()
        .map(|line| match (line.find(" .."), line.rfind(". [")) {
            (Some(start), Some(end)) if start < end => {
                format!("{} ... {}", &line[..start], &line[end + 2..])
            }
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn malformed_projects_fail_with_a_message_and_never_panic() {
    let cases = cases();
    assert!(cases.len() >= 80, "{} cases", cases.len());
    for case in &cases {
        insta::assert_snapshot!(case.name.as_str(), run(case));
    }
}

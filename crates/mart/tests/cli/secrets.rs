//! Secrets: `DBT_ENV_SECRET_*` variables are refused outside profiles.yml, secret values
//! are masked in every line and file mart writes, and the saved parse keeps no digest of
//! a value that a guess could be checked against.

// Test support: a failed setup step should fail the test loudly.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::harness::{Output, TestProject};

/// Every file under `dir` whose bytes contain one of `needles`.
fn files_containing(dir: &Path, needles: &[&[u8]]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                if needles
                    .iter()
                    .any(|n| bytes.windows(n.len()).any(|w| w == *n))
                {
                    found.push(path);
                }
            }
        }
    }
    found
}

fn assert_not_in_output(out: &Output, value: &str) {
    assert!(
        !out.stdout.contains(value) && !out.stderr.contains(value),
        "the secret was printed:\nstdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
}

#[test]
fn secret_env_vars_are_refused_in_models_and_the_project_file() {
    let project = TestProject::with_files(
        "secret_in_model",
        &[(
            "models/m.sql",
            "select 1 as a,\n  '{{ env_var(\"DBT_ENV_SECRET_TOKEN\") }}' as token\n",
        )],
    );
    let env = [("DBT_ENV_SECRET_TOKEN", "tok-model-7f3a")];
    let out = project.mart_with_env(&["compile"], &env);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.starts_with("models/m.sql:2:"),
        "no file and line: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "secret env vars are allowed only in profiles.yml or packages.yml; found 'DBT_ENV_SECRET_TOKEN' here"
        ),
        "{}",
        out.stderr
    );
    assert_not_in_output(&out, "tok-model-7f3a");
    assert!(!project.dir.join("target/compiled").exists());

    // A hook in the project file is rendered like a model.
    let project = TestProject::with_files(
        "secret_in_hook",
        &[
            (
                "dbt_project.yml",
                "name: fx\nprofile: fx\non-run-start: \"select '{{ env_var('DBT_ENV_SECRET_TOKEN') }}'\"\n",
            ),
            ("models/m.sql", "select 1 as a\n"),
        ],
    );
    let out = project.mart_with_env(&["run"], &env);
    assert_ne!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let printed = format!("{}{}", out.stdout, out.stderr);
    assert!(
        printed.contains("found 'DBT_ENV_SECRET_TOKEN' here"),
        "{printed}"
    );
    assert_not_in_output(&out, "tok-model-7f3a");
}

#[test]
fn secret_values_never_reach_the_terminal_or_the_target_folder() {
    let secret = "pw-9d1e-never-printed";
    let project = TestProject::with_files(
        "secret_masked",
        &[
            (
                "macros/show.sql",
                "{% macro show() %}{{ log('macro sees ' ~ env_var('MART_TEST_SAME_VALUE'), info=True) }}{% endmacro %}\n",
            ),
            // The value reaches SQL, logs and errors through a variable that is not
            // secret by name: the masking goes by value.
            (
                "models/shown.sql",
                "{{ log('model sees ' ~ env_var('MART_TEST_SAME_VALUE'), info=True) }}\nselect '{{ env_var('MART_TEST_SAME_VALUE') }}' as v\n",
            ),
            (
                "models/broken.sql",
                "select * from \"{{ env_var('MART_TEST_SAME_VALUE') }}\"\n",
            ),
        ],
    );
    // The password comes from a secret variable; trust authentication ignores it.
    let profile = std::fs::read_to_string(project.dir.join("profiles.yml")).unwrap();
    project.write(
        "profiles.yml",
        &profile.replace(
            "      user: postgres\n",
            "      user: postgres\n      password: \"{{ env_var('DBT_ENV_SECRET_PASSWORD') }}\"\n",
        ),
    );
    let env = [
        ("DBT_ENV_SECRET_PASSWORD", secret),
        ("MART_TEST_SAME_VALUE", secret),
    ];
    let run = project.mart_with_env(&["run"], &env);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("model sees *****"), "{}", run.stdout);
    assert!(
        run.stdout.contains("relation \"*****\" does not exist"),
        "{}",
        run.stdout
    );
    assert_not_in_output(&run, secret);
    let operation = project.mart_with_env(&["run-operation", "show"], &env);
    assert_eq!(
        operation.code, 0,
        "{}{}",
        operation.stdout, operation.stderr
    );
    assert!(
        operation.stdout.contains("macro sees *****"),
        "{}",
        operation.stdout
    );
    assert_not_in_output(&operation, secret);
    let docs = project.mart_with_env(&["docs", "generate", "--empty-catalog"], &env);
    assert_eq!(docs.code, 0, "{}{}", docs.stdout, docs.stderr);
    assert_not_in_output(&docs, secret);

    let target = project.dir.join("target");
    for file in [
        "compiled/fx/models/shown.sql",
        "run/fx/models/shown.sql",
        "manifest.json",
        "run_results.json",
    ] {
        assert!(target.join(file).is_file(), "{file} was not written");
    }
    let shown = std::fs::read_to_string(target.join("run/fx/models/shown.sql")).unwrap();
    assert!(shown.contains("select '*****' as v"), "{shown}");
    assert_eq!(
        files_containing(&target, &[secret.as_bytes()]),
        Vec::<PathBuf>::new()
    );
}

#[test]
fn the_saved_parse_keeps_no_plain_digest_of_an_env_var() {
    let value = format!("stamp-secret-{}", std::process::id());
    let project = TestProject::with_files(
        "secret_stamp",
        &[(
            "models/m.sql",
            "{% if env_var('MART_TEST_STAMPED') | length > 100 %}{{ config(alias='long') }}{% endif %}\nselect 1 as a\n",
        )],
    );
    let cache = project.dir.join("cache");
    let cache_env = cache.to_str().unwrap().to_string();
    let compile = |value: &str| {
        let out = project.mart_with_env(
            &["compile"],
            &[("MART_TEST_STAMPED", value), ("XDG_CACHE_HOME", &cache_env)],
        );
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    };
    compile(&value);
    let saved = crate::partial_parse::saved_parse(&project);
    let modified = || std::fs::metadata(&saved).unwrap().modified().unwrap();
    let first = modified();
    compile(&value);
    assert_eq!(modified(), first, "an unchanged parse was not reused");

    let digest = Sha256::digest(value.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        files_containing(
            &project.dir.join("target"),
            &[
                value.as_bytes(),
                digest.as_slice(),
                hex.as_bytes(),
                hex.to_uppercase().as_bytes(),
            ]
        ),
        Vec::<PathBuf>::new()
    );
    // The key is the user's, outside the project's target folder, private.
    let key = cache.join("mart/stamp.key");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key).unwrap().permissions());
    assert_eq!(
        (std::fs::metadata(&key).unwrap().len(), mode & 0o777),
        (32, 0o600)
    );

    // A changed value still invalidates the saved parse.
    compile(&format!("{value}-changed"));
    let second = modified();
    assert_ne!(second, first, "a changed variable reused the old parse");

    // Without a key (the cache folder cannot be created) values are not stamped: no
    // parse is saved, and every command parses again.
    std::fs::write(project.dir.join("not_a_dir"), "").unwrap();
    let out = project.mart_with_env(
        &["compile"],
        &[
            ("MART_TEST_STAMPED", &value),
            (
                "XDG_CACHE_HOME",
                project.dir.join("not_a_dir").to_str().unwrap(),
            ),
        ],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(!saved.exists(), "a parse was saved with unstamped values");
}

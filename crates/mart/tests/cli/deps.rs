//! `mart deps` installs packages the project then builds: a local package and a git
//! package from a bare repository over file://, with package-lock.yml; and the errors
//! of a missing package and a bad revision; `mart clean` removing the install path.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use crate::harness::TestProject;

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A bare repository holding a package `gitpkg` with a macro and a model, tagged v1.0.0.
fn bare_package(root: &Path) -> String {
    let src = root.join("gitpkg_src");
    std::fs::create_dir_all(src.join("macros")).unwrap();
    std::fs::create_dir_all(src.join("models")).unwrap();
    std::fs::write(
        src.join("dbt_project.yml"),
        "name: gitpkg\nversion: '1.0.0'\n",
    )
    .unwrap();
    std::fs::write(
        src.join("macros/shout.sql"),
        "{% macro shout(x) %}upper({{ x }}){% endmacro %}",
    )
    .unwrap();
    std::fs::write(
        src.join("models/git_model.sql"),
        "select {{ shout(\"'a'\") }} as a",
    )
    .unwrap();
    git(&src, &["init", "-q"]);
    git(&src, &["add", "."]);
    git(&src, &["commit", "-q", "-m", "v1"]);
    git(&src, &["tag", "v1.0.0"]);
    let bare = root.join("gitpkg.git");
    git(
        root,
        &[
            "clone",
            "-q",
            "--bare",
            src.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    format!("file://{}", bare.display())
}

#[test]
fn deps_installs_local_and_git_packages_that_then_build() {
    let p = TestProject::with_files(
        "deps",
        &[
            (
                "dbt_project.yml",
                "name: fx\nprofile: fx\nclean-targets: [target, dbt_packages]\nmodels:\n  fx:\n    +materialized: view\n",
            ),
            ("localpkg/dbt_project.yml", "name: localpkg\n"),
            (
                "localpkg/macros/twice.sql",
                "{% macro twice(x) %}({{ x }} * 2){% endmacro %}",
            ),
            (
                "models/uses_packages.sql",
                "select {{ localpkg.twice(21) }} as n, a from {{ ref('gitpkg', 'git_model') }}",
            ),
        ],
    );
    let url = bare_package(&p.dir);
    p.write(
        "packages.yml",
        &format!("packages:\n  - local: localpkg\n  - git: \"{url}\"\n    revision: v1.0.0\n"),
    );
    let out = p.mart_expect(&["deps"], 0);
    assert!(out.stdout.contains("Installing localpkg"), "{}", out.stdout);
    assert!(p.dir.join("dbt_packages/localpkg").is_symlink());
    assert!(p.dir.join("dbt_packages/gitpkg/dbt_project.yml").is_file());
    let lock = std::fs::read_to_string(p.dir.join("package-lock.yml")).unwrap();
    assert!(
        lock.contains("name: gitpkg") && lock.contains("sha1_hash:"),
        "{lock}"
    );
    p.mart_expect(&["run"], 0);
    assert_eq!(
        p.rows(&format!("select n, a from \"{}\".uses_packages", p.schema)),
        ["42|A"]
    );
    // The package's own model was built into the target schema.
    assert_eq!(
        p.rows(&format!("select a from \"{}\".git_model", p.schema)),
        ["A"]
    );
    // Selecting by package.
    let out = p.mart_expect(&["ls", "-s", "package:gitpkg"], 0);
    assert_eq!(out.stdout.trim(), "gitpkg.git_model");

    // `mart clean` removes the install path; a linked local package keeps its files.
    p.mart_expect(&["clean"], 0);
    assert!(!p.dir.join("dbt_packages").exists());
    assert!(p.dir.join("localpkg/macros/twice.sql").is_file());

    // A revision the repository does not have: an error naming packages.yml and the package.
    p.write(
        "packages.yml",
        &format!("packages:\n  - git: \"{url}\"\n    revision: v9.9.9\n"),
    );
    let out = p.mart_expect(&["deps"], 2);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(text.contains("packages.yml:2"), "{text}");
    assert!(text.contains("v9.9.9"), "{text}");

    // A local package that does not exist.
    p.write("packages.yml", "packages:\n  - local: nowhere\n");
    let out = p.mart_expect(&["deps"], 2);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(
        text.contains("packages.yml:2") && text.contains("nowhere"),
        "{text}"
    );
}

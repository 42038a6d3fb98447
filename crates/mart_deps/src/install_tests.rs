use std::collections::HashMap;

use super::*;
use crate::test_support::{commit, git, serve, tarball, test_env, write};

struct Run {
    result: Result<DepsOutcome, DepsError>,
    events: Vec<String>,
}

fn deps(root: &Path, hub_url: &str, upgrade: bool, lock_only: bool) -> Run {
    let options = DepsOptions {
        upgrade,
        lock_only,
        hub_url: hub_url.to_string(),
    };
    let mut events = Vec::new();
    let result = run_deps(
        root,
        Path::new("dbt_packages"),
        "root_project",
        &options,
        &test_env,
        &mut |e| events.push(e.to_string()),
    );
    Run { result, events }
}

fn project(root: &Path, packages: &str) {
    write(&root.join("dbt_project.yml"), "name: root_project\n");
    write(&root.join("packages.yml"), packages);
}

fn lock_text(root: &Path) -> String {
    std::fs::read_to_string(root.join(LOCK_FILE_NAME)).unwrap()
}

#[test]
fn local_packages_are_symlinked_under_their_own_names() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    project(&root, "packages:\n  - local: ../pkg_a\n");
    write(&dir.path().join("pkg_a/dbt_project.yml"), "name: alpha\n");
    // Its own local dependency is relative to pkg_a.
    write(
        &dir.path().join("pkg_a/packages.yml"),
        "packages:\n  - local: ../pkg_b\n",
    );
    write(&dir.path().join("pkg_b/dbt_project.yml"), "name: beta\n");
    let run = deps(&root, "http://127.0.0.1:9", false, false);
    let outcome = run.result.unwrap();
    assert!(outcome.lock_written);
    let installed = root.join("dbt_packages/alpha");
    assert_eq!(
        std::fs::read_link(&installed).unwrap(),
        dir.path().join("pkg_a").canonicalize().unwrap()
    );
    assert!(root.join("dbt_packages/beta/dbt_project.yml").exists());
    let root_c = root.canonicalize().unwrap();
    assert_eq!(
        run.events,
        vec![
            format!(
                "Updating lock file in file path: {}",
                root_c.join(LOCK_FILE_NAME).display()
            ),
            "Installing ../pkg_a".to_string(),
            "Installed from <local @ ../pkg_a>".to_string(),
            "Installing ../pkg_b".to_string(),
            "Installed from <local @ ../pkg_b>".to_string(),
        ]
    );
    let hash =
        packages_sha1(&crate::test_support::parse_text("packages:\n  - local: ../pkg_a\n").entries);
    assert_eq!(
        lock_text(&root),
        format!("packages:\n  - local: ../pkg_a\n    name: alpha\n  - local: ../pkg_b\n    name: beta\nsha1_hash: {hash}\n")
    );
    // The lock is current: nothing is resolved again, and stale folders go.
    write(&root.join("dbt_packages/stale/x.sql"), "select 1");
    let again = deps(&root, "http://127.0.0.1:9", false, false);
    assert!(!again.result.unwrap().lock_written);
    assert!(!root.join("dbt_packages/stale").exists());
    assert!(root.join("dbt_packages/alpha").exists());

    // An emptied spec installs nothing (and leaves the old lock alone).
    let lock_before = lock_text(&root);
    project(&root, "packages: []\n");
    let emptied = deps(&root, "http://127.0.0.1:9", false, false);
    assert_eq!(
        emptied.events,
        vec!["Warning: No packages were found in packages.yml"]
    );
    assert!(!emptied.result.unwrap().lock_written);
    assert_eq!(
        std::fs::read_dir(root.join("dbt_packages"))
            .unwrap()
            .count(),
        0
    );
    assert_eq!(lock_text(&root), lock_before);
}

#[test]
fn local_errors_name_packages_yml_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    project(
        &root,
        "packages:\n  - local: ../pkg_a\n  - local: ../missing\n",
    );
    write(
        &dir.path().join("pkg_a/dbt_project.yml"),
        "name: root_project\n",
    );
    let err = deps(&root, "http://127.0.0.1:9", false, false)
        .result
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("packages.yml:3: package ../missing: local package path"),
        "{text}"
    );
    assert_eq!(err.origin().and_then(|o| o.line), Some(3));

    project(&root, "packages:\n  - local: ../pkg_a\n");
    let text = deps(&root, "http://127.0.0.1:9", false, false)
        .result
        .unwrap_err()
        .to_string();
    assert!(text.contains("packages.yml:2: package ../pkg_a: Found a dependency with the same name as the root project \"root_project\""), "{text}");
    assert!(!root.join(LOCK_FILE_NAME).exists());

    // Two sources installing the same project name.
    project(&root, "packages:\n  - local: ../one\n  - local: ../two\n");
    write(&dir.path().join("one/dbt_project.yml"), "name: same\n");
    write(&dir.path().join("two/dbt_project.yml"), "name: same\n");
    let text = deps(&root, "http://127.0.0.1:9", false, false)
        .result
        .unwrap_err()
        .to_string();
    assert!(
        text.contains(
            "packages.yml:3: package same: Found duplicate project \"same\": ../one (from "
        ),
        "{text}"
    );
    assert!(text.contains("and ../two (from "), "{text}");
}

/// A bare repository at `<dir>/remote.git`: v1.0.0 tagged, then a second commit on
/// main and a `dev` branch; a `sub/` folder holds a second project.
fn git_remote(dir: &Path) -> (String, String, String) {
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q"]);
    let first = commit(
        &work,
        &[
            ("dbt_project.yml", "name: git_pkg\nversion: '1.0.0'\n"),
            ("sub/dbt_project.yml", "name: sub_pkg\n"),
        ],
        "one",
    );
    git(&work, &["tag", "v1.0.0"]);
    let second = commit(
        &work,
        &[("dbt_project.yml", "name: git_pkg\nversion: '2.0.0'\n")],
        "two",
    );
    git(&work, &["checkout", "-q", "-b", "dev"]);
    commit(&work, &[("dev.txt", "dev")], "dev");
    git(&work, &["checkout", "-q", "main"]);
    git(dir, &["clone", "-q", "--bare", "work", "remote.git"]);
    (
        format!("file://{}", dir.join("remote.git").display()),
        first,
        second,
    )
}

fn installed_version(root: &Path) -> String {
    std::fs::read_to_string(root.join("dbt_packages/git_pkg/dbt_project.yml")).unwrap()
}

#[test]
fn git_packages_by_tag_branch_commit_and_subdirectory() {
    let dir = tempfile::tempdir().unwrap();
    let (url, first, second) = git_remote(dir.path());
    let root = dir.path().join("root");

    project(
        &root,
        &format!("packages:\n  - git: {url}\n    revision: v1.0.0\n"),
    );
    let run = deps(&root, "http://127.0.0.1:9", false, false);
    run.result.unwrap();
    assert!(installed_version(&root).contains("1.0.0"));
    assert_eq!(
        run.events[1..],
        [
            format!("Installing {url}"),
            format!("Installed from revision {first}")
        ]
    );
    let lock = lock_text(&root);
    assert!(
        lock.contains(&format!(
            "  - git: {url}\n    name: git_pkg\n    revision: {first}\n"
        )),
        "{lock}"
    );

    project(
        &root,
        &format!("packages:\n  - git: {url}\n    revision: main\n"),
    );
    let run = deps(&root, "http://127.0.0.1:9", false, false);
    run.result.unwrap();
    assert!(installed_version(&root).contains("2.0.0"));
    assert!(
        run.events[0].contains("packages.yml:2: The git package"),
        "{:?}",
        run.events
    );
    assert!(run.events[0].contains("is pinned to the \"main\" branch"));

    project(
        &root,
        &format!("packages:\n  - git: {url}\n    revision: dev\n"),
    );
    deps(&root, "http://127.0.0.1:9", false, false)
        .result
        .unwrap();
    assert!(root.join("dbt_packages/git_pkg/dev.txt").exists());

    project(
        &root,
        &format!("packages:\n  - git: {url}\n    revision: {first}\n"),
    );
    deps(&root, "http://127.0.0.1:9", false, false)
        .result
        .unwrap();
    assert!(installed_version(&root).contains("1.0.0"));

    project(
        &root,
        &format!("packages:\n  - git: {url}\n    revision: {second}\n    subdirectory: sub\n"),
    );
    let run = deps(&root, "http://127.0.0.1:9", false, false);
    run.result.unwrap();
    assert!(root.join("dbt_packages/sub_pkg/dbt_project.yml").exists());
    assert!(!root.join("dbt_packages/git_pkg").exists());
    assert_eq!(
        run.events.last().map(String::as_str),
        Some("and subdirectory sub")
    );
    assert!(lock_text(&root).contains("    subdirectory: sub\n"));
}

#[test]
fn bad_git_revision_is_an_error_naming_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _, _) = git_remote(dir.path());
    let root = dir.path().join("root");
    project(
        &root,
        &format!("packages:\n  - local: ../work\n  - git: {url}\n    revision: v9.9.9\n"),
    );
    let err = deps(&root, "http://127.0.0.1:9", false, false)
        .result
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "packages.yml:3: package {url}: cannot check out revision `v9.9.9`"
        )),
        "{text}"
    );
    project(
        &root,
        &format!("packages:\n  - git: {url}\n    subdirectory: nope\n    warn-unpinned: false\n"),
    );
    let text = deps(&root, "http://127.0.0.1:9", false, false)
        .result
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("subdirectory `nope` does not exist"),
        "{text}"
    );
}

fn hub_version(name: &str, base: &str, file: &str, packages: &str, require: &str) -> String {
    format!(
        r#"{{"name": "{name}", "packages": {packages}, "require_dbt_version": {require}, "downloads": {{"tarball": "{base}/tarballs/{file}"}}}}"#
    )
}

type Seen = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// A hub with org/pkg_a (1.0.0, 1.1.0, and 2.0.0 which needs dbt 9) depending on
/// org/pkg_b >=0.2.0, and org/pkg_b (0.1.0, 0.2.0, 0.3.0-rc1); plus a plain tarball.
fn hub_server() -> (String, Seen) {
    serve(
        |base| {
            let needs_b = r#"[{"package": "org/pkg_b", "version": [">=0.2.0"]}]"#;
            let a = |v: &str, require: &str| {
                hub_version("pkg_a", base, &format!("a-{v}.tar.gz"), needs_b, require)
            };
            let b = |v: &str| hub_version("pkg_b", base, &format!("b-{v}.tar.gz"), "[]", "[]");
            let index_a = format!(
                r#"{{"name": "pkg_a", "namespace": "org", "latest": "2.0.0", "versions": {{"1.0.0": {}, "1.1.0": {}, "2.0.0": {}}}}}"#,
                a("1.0.0", "[\">=1.0.0\"]"),
                a("1.1.0", "\">=1.3.0\""),
                a("2.0.0", "[\">=9.0.0\"]")
            );
            let index_b = format!(
                r#"{{"name": "pkg_b", "namespace": "org", "latest": "0.3.0-rc1", "versions": {{"0.1.0": {}, "0.2.0": {}, "0.3.0-rc1": {}}}}}"#,
                b("0.1.0"),
                b("0.2.0"),
                b("0.3.0-rc1")
            );
            let mut routes: HashMap<String, Vec<u8>> = HashMap::new();
            routes.insert("/api/v1/org/pkg_a.json".into(), index_a.into_bytes());
            routes.insert("/api/v1/org/pkg_b.json".into(), index_b.into_bytes());
            for (pkg, top, versions) in [
                ("a", "org-pkg_a", ["1.0.0", "1.1.0", "2.0.0"]),
                ("b", "pkg_b", ["0.1.0", "0.2.0", "0.3.0-rc1"]),
            ] {
                for v in versions {
                    let project = format!("name: pkg_{pkg}\nversion: '{v}'\n");
                    let body = tarball(&format!("{top}-{v}"), &[("dbt_project.yml", &project)]);
                    routes.insert(format!("/tarballs/{pkg}-{v}.tar.gz"), body);
                }
            }
            let custom = tarball(
                "whatever-main",
                &[("dbt_project.yml", "name: inner_name\n")],
            );
            routes.insert("/t/custom.tar.gz".into(), custom);
            routes
        },
        200,
    )
}

fn hub_version_of(root: &Path, name: &str) -> String {
    std::fs::read_to_string(root.join(format!("dbt_packages/{name}/dbt_project.yml"))).unwrap()
}

#[test]
fn hub_and_tarball_packages_resolve_transitively() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let (base, seen) = hub_server();
    let packages = format!(
        "packages:\n  - package: org/pkg_a\n    version: [\">=1.0.0\", \"<3.0.0\"]\n  - tarball: {base}/t/custom.tar.gz\n    name: tar_pkg\n"
    );
    project(&root, &packages);
    let run = deps(&root, &base, false, false);
    run.result.unwrap();
    assert!(hub_version_of(&root, "pkg_a").contains("1.1.0"));
    assert!(hub_version_of(&root, "pkg_b").contains("0.2.0"));
    assert!(hub_version_of(&root, "tar_pkg").contains("inner_name"));
    let hash = packages_sha1(&crate::test_support::parse_text(&packages).entries);
    assert_eq!(
        lock_text(&root),
        format!(
            "packages:\n  - name: pkg_a\n    package: org/pkg_a\n    version: 1.1.0\n  - name: tar_pkg\n    tarball: {base}/t/custom.tar.gz\n  - name: pkg_b\n    package: org/pkg_b\n    version: 0.2.0\nsha1_hash: {hash}\n"
        )
    );
    assert_eq!(
        run.events[1..],
        [
            "Installing org/pkg_a",
            "Installed from version 1.1.0",
            "Up to date!",
            "Installing tar_pkg",
            &format!("Installed from tarball (url: {base}/t/custom.tar.gz)"),
            "Installing org/pkg_b",
            "Installed from version 0.2.0",
            "Up to date!",
        ]
        .map(String::from)
    );

    // A lock whose hash matches is installed exactly as it says.
    let pinned_old = lock_text(&root).replace("version: 0.2.0", "version: 0.1.0");
    write(&root.join(LOCK_FILE_NAME), &pinned_old);
    seen.lock().unwrap().clear();
    let run = deps(&root, &base, false, false);
    assert!(!run.result.unwrap().lock_written);
    assert!(hub_version_of(&root, "pkg_b").contains("0.1.0"));
    assert!(
        run.events
            .contains(&"Updated version available: 0.2.0".to_string()),
        "{:?}",
        run.events
    );
    assert_eq!(lock_text(&root), pinned_old);

    // --upgrade resolves again; --lock writes the lock and installs nothing.
    std::fs::remove_dir_all(root.join("dbt_packages")).unwrap();
    let run = deps(&root, &base, true, true);
    assert!(run.result.unwrap().lock_written);
    assert!(lock_text(&root).contains("version: 0.2.0"));
    assert!(!root.join("dbt_packages").exists());
}

#[test]
fn hub_conflicts_and_unknown_packages_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let (base, _) = hub_server();

    project(&root, "packages:\n  - package: org/pkg_b\n    version: \"<0.2.0\"\n  - package: org/pkg_a\n    version: 1.1.0\n");
    let text = deps(&root, &base, false, false)
        .result
        .unwrap_err()
        .to_string();
    let yml = root.canonicalize().unwrap().join("packages.yml");
    assert_eq!(text, format!("{}:4: package org/pkg_b: no version satisfies every requirement: {}:2 requires [\"<0.2.0\"]; package pkg_a (org/pkg_a@1.1.0 (hub index)) requires [\">=0.2.0\"]", yml.display(), yml.display()));

    project(
        &root,
        "packages:\n  - package: org/pkg_b\n    version: [\">=0.3.0\"]\n",
    );
    let text = deps(&root, &base, false, false)
        .result
        .unwrap_err()
        .to_string();
    assert!(text.contains("packages.yml:2: package org/pkg_b: Could not find a matching compatible version: requested range >=0.3.0; compatible versions:"), "{text}");

    project(
        &root,
        "packages:\n  - package: org/pkg_b\n    version: [\">=0.3.0-rc1\"]\n",
    );
    deps(&root, &base, false, false).result.unwrap();
    assert!(hub_version_of(&root, "pkg_b").contains("0.3.0-rc1"));

    project(
        &root,
        "packages:\n  - local: ../x\n  - package: org/nope\n    version: 1.0.0\n",
    );
    write(&dir.path().join("x/dbt_project.yml"), "name: x\n");
    let text = deps(&root, &base, false, false)
        .result
        .unwrap_err()
        .to_string();
    assert!(text.contains(&format!("packages.yml:3: package org/nope: Package org/nope was not found in the package index at {base}")), "{text}");

    let text = deps(&root, "http://127.0.0.1:9", true, false)
        .result
        .unwrap_err()
        .to_string();
    assert!(
        text.contains(
            "packages.yml:3: package org/nope: GET http://127.0.0.1:9/api/v1/org/nope.json failed"
        ),
        "{text}"
    );
}

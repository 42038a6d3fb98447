use super::*;
use crate::test_support::{parse_text, test_env, write};

const ALL_KINDS: &str = "\
packages:
  - package: dbt-labs/dbt_utils
    version: [\">=1.0.0\", \"<2.0.0\"]
    install_prerelease: true
  - git: \"https://{{ env_var('TOKEN') }}@example.com/org/repo.git\"
    revision: v1.2.0
    subdirectory: pkgs/core
    warn-unpinned: false
  - tarball: https://example.com/pkg.tar.gz
    name: tar_pkg
  - local: ../shared
  - package: org/exact
    version: 1.1.1
";

#[test]
fn parses_every_entry_kind_with_its_line() {
    let file = parse_text(ALL_KINDS);
    assert!(file.warnings.is_empty(), "{:?}", file.warnings);
    let sources: Vec<&Source> = file.entries.iter().map(|e| &e.source).collect();
    assert_eq!(
        sources,
        vec![
            &Source::Hub(HubSpec {
                package: "dbt-labs/dbt_utils".into(),
                versions: vec![">=1.0.0".into(), "<2.0.0".into()],
                install_prerelease: true,
            }),
            &Source::Git(GitSpec {
                url: "https://s3cret@example.com/org/repo.git".into(),
                url_unrendered: "https://{{ env_var('TOKEN') }}@example.com/org/repo.git".into(),
                revision: Some("v1.2.0".into()),
                subdirectory: Some("pkgs/core".into()),
                warn_unpinned: false,
            }),
            &Source::Tarball(TarballSpec {
                url: "https://example.com/pkg.tar.gz".into(),
                url_unrendered: "https://example.com/pkg.tar.gz".into(),
                name: "tar_pkg".into(),
            }),
            &Source::Local {
                path: "../shared".into()
            },
            &Source::Hub(HubSpec {
                package: "org/exact".into(),
                versions: vec!["1.1.1".into()],
                install_prerelease: false,
            }),
        ]
    );
    let lines: Vec<Option<usize>> = file.entries.iter().map(|e| e.origin.line).collect();
    assert_eq!(lines, vec![Some(2), Some(5), Some(9), Some(11), Some(12)]);
    assert_eq!(
        file.entries[1].unrendered.get("git"),
        Some(&Value::String(
            "https://{{ env_var('TOKEN') }}@example.com/org/repo.git".into()
        ))
    );
}

#[test]
fn numbers_are_read_as_dbt_reads_them() {
    let file =
        parse_text("packages:\n  - package: a/b\n    version: 1.0\n  - git: u\n    revision: 2\n");
    match (&file.entries[0].source, &file.entries[1].source) {
        (Source::Hub(hub), Source::Git(git)) => {
            assert_eq!(hub.versions, vec!["1.0".to_string()]);
            assert_eq!(git.revision.as_deref(), Some("2"));
            assert!(git.warn_unpinned);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_keys_warn_with_line_and_suggestion() {
    let text = "packages:\n  - package: a/b\n    version: 1.0.0\n    verison: 2\n  - git: u\n    revison: v1\nextra: 1\n";
    let file = parse_text(text);
    let warnings: Vec<String> = file.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        vec![
            "packages.yml:7: unknown key `extra` is ignored (known keys: packages)",
            "packages.yml:4: unknown key `verison` is ignored; did you mean `version`?",
            "packages.yml:6: unknown key `revison` is ignored; did you mean `revision`?",
        ]
    );
}

fn parse_error(text: &str) -> String {
    let path = Path::new("packages.yml");
    let map = parse_yaml_map(path, text).unwrap();
    parse_packages_map(path, text, &map, &[], &test_env)
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_entries_are_errors_at_their_line() {
    assert_eq!(
        parse_error("packages:\n  - local: a\n  - package: dbt-labs/dbt_utils\n"),
        "packages.yml:3: dbt-labs/dbt_utils is missing the version. When installing from the Hub package index, version is a required property"
    );
    assert_eq!(
        parse_error("packages:\n  - package: dbt_utils\n    version: 1.0.0\n"),
        "packages.yml:2: dbt_utils was not found in the package index. Packages on the index require a namespace, e.g dbt-labs/dbt_utils"
    );
    assert_eq!(
        parse_error("packages:\n  - revision: v1\n"),
        "packages.yml:2: a package entry has none of `local:`, `git:`, `tarball:` or `package:`"
    );
    assert_eq!(
        parse_error("packages:\n  - local: a\n    git: b\n"),
        "packages.yml:2: a package entry has more than one source: local, git"
    );
    assert_eq!(
        parse_error("packages:\n  - tarball: https://x/y.tar.gz\n"),
        "packages.yml:2: `name:` is missing its value. It is a required property."
    );
    assert_eq!(
        parse_error("packages:\n  - git: u\n    warn-unpinned: maybe\n"),
        "packages.yml:3: `warn-unpinned:` is not true or false"
    );
    assert_eq!(
        parse_error("packages:\n  - git: u\n    revision: \"{{ env_var('MISSING') }}\"\n"),
        "packages.yml:3: Env var required but not provided: 'MISSING'"
    );
    assert!(parse_error("packages:\n  - local: \"{{ var('x') }}\"\n")
        .starts_with("packages.yml:2: unsupported Jinja `{{ var('x') }}`"));
    assert!(parse_error("packages:\n  - private: org/repo\n")
        .starts_with("packages.yml:2: `private:` packages"));
    assert_eq!(
        parse_error("packages: 3\n"),
        "packages.yml:1: `packages:` is not a list"
    );
}

#[test]
fn invalid_yaml_names_the_line() {
    let err = parse_yaml_map(Path::new("packages.yml"), "packages:\n  - local: [a\n").unwrap_err();
    assert!(
        err.to_string().starts_with("packages.yml:3: invalid YAML"),
        "{err}"
    );
}

#[test]
fn reads_packages_or_dependencies_by_dbt_rules() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    assert!(read_packages(root, &test_env).unwrap().is_none());

    write(
        &root.join(DEPENDENCIES_FILE_NAME),
        "packages:\n  - local: a\n",
    );
    let file = read_packages(root, &test_env).unwrap().unwrap();
    assert_eq!(file.path, root.join(DEPENDENCIES_FILE_NAME));

    write(&root.join(PACKAGES_FILE_NAME), "packages:\n  - local: b\n");
    let err = read_packages(root, &test_env).unwrap_err().to_string();
    assert!(err.ends_with("dependencies.yml:1: The 'packages' key cannot be specified in both packages.yml and dependencies.yml"), "{err}");

    write(
        &root.join(DEPENDENCIES_FILE_NAME),
        "projects:\n  - name: other\n",
    );
    let err = read_packages(root, &test_env).unwrap_err().to_string();
    assert!(err.ends_with("dependencies.yml:1: `projects:` (cross-project references) is a dbt Cloud feature; mart does not support it"), "{err}");

    std::fs::remove_file(root.join(DEPENDENCIES_FILE_NAME)).unwrap();
    let file = read_packages(root, &test_env).unwrap().unwrap();
    assert_eq!(file.path, root.join(PACKAGES_FILE_NAME));
    assert_eq!(file.entries[0].source, Source::Local { path: "b".into() });

    write(&root.join(PACKAGES_FILE_NAME), "# none yet\n");
    assert!(read_packages(root, &test_env)
        .unwrap()
        .unwrap()
        .entries
        .is_empty());
}

//! package-lock.yml as dbt 1.7+ writes it: the resolved packages (hub `version`, git
//! commit `revision`, `local`, `tarball`), each with the `name` it installs under, and
//! the `sha1_hash` of the packages spec it was resolved from. Keys are sorted and list
//! items indented, as PyYAML dumps it for dbt.

use std::path::{Path, PathBuf};

use crate::error::DepsError;
use crate::render::EnvLookup;
use crate::spec::{parse_packages_map, parse_yaml_map, PackageEntry};

pub const LOCK_FILE_NAME: &str = "package-lock.yml";

/// A resolved package as the lock records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockEntry {
    /// The project name it installs under.
    pub name: String,
    pub source: LockSource,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockSource {
    Hub {
        package: String,
        version: String,
    },
    /// `git` as written in packages.yml (env_var() calls are kept, not their values).
    Git {
        git: String,
        revision: String,
        subdirectory: Option<String>,
    },
    Local {
        local: String,
    },
    Tarball {
        tarball: String,
    },
}

/// A lock file read back: its entries parsed as package specs (what dbt does too).
#[derive(Clone, Debug)]
pub struct LockFile {
    pub path: PathBuf,
    pub entries: Vec<PackageEntry>,
    pub sha1_hash: Option<String>,
}

impl LockFile {
    /// Reads `path`; `None` if it does not exist.
    pub fn read(path: &Path, env: EnvLookup<'_>) -> Result<Option<Self>, DepsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(DepsError::io("read", path, e)),
        };
        let map = parse_yaml_map(path, &text)?;
        let sha1_hash = map
            .get("sha1_hash")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let parsed = parse_packages_map(path, &text, &map, &["sha1_hash"], env)?;
        Ok(Some(Self {
            path: path.to_path_buf(),
            entries: parsed.entries,
            sha1_hash,
        }))
    }
}

/// The lock file's text for these packages and hash.
pub(crate) fn lock_yaml(entries: &[LockEntry], sha1_hash: &str) -> String {
    let mut out = String::from("packages:\n");
    for entry in entries {
        let mut fields: Vec<(&str, &str)> = vec![("name", &entry.name)];
        match &entry.source {
            LockSource::Hub { package, version } => {
                fields.push(("package", package));
                fields.push(("version", version));
            }
            LockSource::Git {
                git,
                revision,
                subdirectory,
            } => {
                fields.push(("git", git));
                fields.push(("revision", revision));
                if let Some(sub) = subdirectory {
                    fields.push(("subdirectory", sub));
                }
            }
            LockSource::Local { local } => fields.push(("local", local)),
            LockSource::Tarball { tarball } => fields.push(("tarball", tarball)),
        }
        fields.sort();
        for (i, (key, value)) in fields.iter().enumerate() {
            let lead = if i == 0 { "  - " } else { "    " };
            out.push_str(&format!("{lead}{key}: {}\n", yaml_scalar(value)));
        }
    }
    out.push_str(&format!("sha1_hash: {sha1_hash}\n"));
    out
}

/// A string as a plain scalar where YAML reads it back as the same string, else
/// single-quoted (as PyYAML does for `'1.0'` or `'{{ env_var(...) }}'`).
fn yaml_scalar(value: &str) -> String {
    let plain_safe = !value.is_empty()
        && !value.starts_with([' ', '\'', '"', '&', '*', '!', '|', '>', '%', '@', '`'])
        && !value.ends_with(' ')
        && !value.contains(": ")
        && !value.contains(" #")
        && !value.contains('\n')
        && matches!(
            serde_yaml::from_str::<serde_yaml::Value>(value),
            Ok(serde_yaml::Value::String(s)) if s == value
        );
    if plain_safe {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Source;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn writes_dbt_layout_and_reads_it_back() {
        let entries = vec![
            LockEntry {
                name: "dbt_utils".into(),
                source: LockSource::Hub {
                    package: "dbt-labs/dbt_utils".into(),
                    version: "1.3.0".into(),
                },
            },
            LockEntry {
                name: "private_pkg".into(),
                source: LockSource::Git {
                    git: "https://{{ env_var('TOKEN') }}@example.com/p.git".into(),
                    revision: "0123456789abcdef0123456789abcdef01234567".into(),
                    subdirectory: Some("sub".into()),
                },
            },
            LockEntry {
                name: "local_pkg".into(),
                source: LockSource::Local {
                    local: "../local_pkg".into(),
                },
            },
            LockEntry {
                name: "tar_pkg".into(),
                source: LockSource::Tarball {
                    tarball: "http://127.0.0.1:1/x.tar.gz".into(),
                },
            },
        ];
        let text = lock_yaml(&entries, "abc123");
        let expected = "\
packages:
  - name: dbt_utils
    package: dbt-labs/dbt_utils
    version: 1.3.0
  - git: https://{{ env_var('TOKEN') }}@example.com/p.git
    name: private_pkg
    revision: 0123456789abcdef0123456789abcdef01234567
    subdirectory: sub
  - local: ../local_pkg
    name: local_pkg
  - name: tar_pkg
    tarball: http://127.0.0.1:1/x.tar.gz
sha1_hash: abc123
";
        assert_eq!(text, expected);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE_NAME);
        std::fs::write(&path, &text).unwrap();
        let env = |name: &str| (name == "TOKEN").then(|| "t0k".to_string());
        let lock = LockFile::read(&path, &env).unwrap().unwrap();
        assert_eq!(lock.sha1_hash.as_deref(), Some("abc123"));
        assert_eq!(lock.entries.len(), 4);
        match &lock.entries[1].source {
            Source::Git(git) => {
                assert_eq!(git.url, "https://t0k@example.com/p.git");
                assert_eq!(
                    git.revision.as_deref(),
                    Some("0123456789abcdef0123456789abcdef01234567")
                );
                assert_eq!(git.subdirectory.as_deref(), Some("sub"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(lock.entries[2].origin.line, Some(9));
        assert_eq!(
            LockFile::read(&dir.path().join("none.yml"), &no_env)
                .unwrap()
                .map(|l| l.sha1_hash),
            None
        );
    }

    #[test]
    fn quotes_what_yaml_would_read_otherwise() {
        assert_eq!(yaml_scalar("1.0"), "'1.0'");
        assert_eq!(yaml_scalar("1.3.0"), "1.3.0");
        assert_eq!(yaml_scalar("true"), "'true'");
        assert_eq!(yaml_scalar("{{ x }}"), "'{{ x }}'");
        assert_eq!(yaml_scalar("it's"), "it's");
        assert_eq!(yaml_scalar("'q'"), "'''q'''");
    }
}

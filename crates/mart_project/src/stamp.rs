//! What a parse of the project depended on, so that a saved parse can be reused while it
//! is current (dbt's partial parsing, at the grain of the whole project): the project
//! folder, every file under its resource paths with size and modification time, the
//! project file's text, and the environment variables `env_var()` read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::env::env_vars_read;
use crate::ProjectConfig;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputStamp {
    root: PathBuf,
    project_file: String,
    /// (path relative to the root, size in bytes, modification time in nanoseconds).
    files: Vec<(String, u64, u128)>,
    /// Variable -> SHA-256 of its value (values themselves are never saved).
    env: BTreeMap<String, Option<String>>,
}

impl InputStamp {
    /// Stamps the project as it is on disk now, with the environment variables read so far.
    pub fn scan(root: &Path, config: &ProjectConfig) -> Self {
        let mut files = Vec::new();
        visit_files(root, config, |path, size, modified| {
            files.push((path.to_string(), size, modified));
            true
        });
        let env = env_vars_read()
            .into_iter()
            .map(|(name, value)| (name, value.as_deref().map(digest)))
            .collect();
        InputStamp {
            root: root.to_path_buf(),
            project_file: config.file.text.to_string(),
            files,
            env,
        }
    }

    /// Whether the project on disk and the environment still match this stamp.
    pub fn is_current(&self, root: &Path, config: &ProjectConfig) -> bool {
        let env_unchanged = self
            .env
            .iter()
            .all(|(name, saved)| std::env::var(name).ok().as_deref().map(digest) == *saved);
        if !env_unchanged || self.root != root || *self.project_file != *config.file.text {
            return false;
        }
        // File by file, in the order they were stamped; stops at the first difference.
        let mut saved = self.files.iter();
        let same = visit_files(root, config, |path, size, modified| {
            saved
                .next()
                .is_some_and(|(p, s, m)| p == path && *s == size && *m == modified)
        });
        same && saved.next().is_none()
    }
}

/// Calls `visit` with every file under the project's resource paths (relative path, size,
/// modification time in nanoseconds), in a fixed order, while it returns true. Returns
/// whether every call did.
fn visit_files(
    root: &Path,
    config: &ProjectConfig,
    mut visit: impl FnMut(&str, u64, u128) -> bool,
) -> bool {
    let mut dirs: Vec<&String> = config
        .model_paths
        .iter()
        .chain(&config.seed_paths)
        .chain(&config.macro_paths)
        .chain(&config.snapshot_paths)
        .chain(&config.test_paths)
        .chain(&config.analysis_paths)
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        for entry in walkdir::WalkDir::new(root.join(dir)).sort_by_file_name() {
            let Ok(entry) = entry else { continue };
            if !entry.file_type().is_file() {
                continue;
            }
            let (size, modified) = entry.metadata().map_or((0, 0), |m| {
                let modified = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                (m.len(), modified)
            });
            let path = entry.path().strip_prefix(root).unwrap_or(entry.path());
            if !visit(&path.to_string_lossy(), size, modified) {
                return false;
            }
        }
    }
    true
}

fn digest(value: &str) -> String {
    Sha256::digest(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

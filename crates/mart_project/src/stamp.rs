//! What a parse of the project depended on, so that a saved parse can be reused while it
//! is current (dbt's partial parsing, at the grain of the whole project): the project
//! folder, every file under its resource paths with size and modification time, the
//! project file's text, and the environment variables `env_var()` read.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs::{DirEntry, Metadata};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use crate::env::env_vars_read;
use crate::stamp_key::keyed_digest;
use crate::ProjectConfig;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputStamp {
    root: PathBuf,
    project_file: String,
    /// Every directory under the resource paths that holds files, in walk order.
    dirs: Vec<StampedDir>,
    /// Variable -> keyed digest of its value, `None` when unset (values themselves are
    /// never saved, nor anything a guess could be checked against without the key; see
    /// [`crate::stamp_key`]). `None` as a whole when a value could not be stamped: such a
    /// stamp is never current.
    env: Option<BTreeMap<String, Option<String>>>,
}

/// The files directly in one directory; grouping them keeps the shared prefix out of
/// every file's entry and lets `is_current` compare names without building paths.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct StampedDir {
    /// Relative to the root.
    path: String,
    /// (file name, size in bytes, modification time in nanoseconds), sorted by name.
    files: Vec<(String, u64, u128)>,
}

/// One file as the walk finds it.
struct FileStat<'a> {
    name: &'a OsStr,
    size: u64,
    modified: u128,
}

impl InputStamp {
    /// Stamps the project as it is on disk now, with the environment variables read so far.
    pub fn scan(root: &Path, config: &ProjectConfig) -> Self {
        let mut dirs = Vec::new();
        visit_dirs(root, config, |path, files| {
            dirs.push(StampedDir {
                path: path.to_string(),
                files: files
                    .iter()
                    .map(|f| (f.name.to_string_lossy().into_owned(), f.size, f.modified))
                    .collect(),
            });
            true
        });
        let env = env_vars_read()
            .into_iter()
            .map(|(name, value)| {
                let stamped = env_stamp(&name, value.as_deref())?;
                Some((name, stamped))
            })
            .collect();
        InputStamp {
            root: root.to_path_buf(),
            project_file: config.file.text.to_string(),
            dirs,
            env,
        }
    }

    /// Whether the stamp could hold everything the parse read: not when an environment
    /// variable's value could not be stamped (no key), which makes it never current.
    pub fn can_be_current(&self) -> bool {
        self.env.is_some()
    }

    /// Whether the project on disk and the environment still match this stamp.
    pub fn is_current(&self, root: &Path, config: &ProjectConfig) -> bool {
        let env_unchanged = self.env.as_ref().is_some_and(|env| {
            env.iter().all(|(name, saved)| {
                env_stamp(name, std::env::var(name).ok().as_deref()).as_ref() == Some(saved)
            })
        });
        if !env_unchanged || self.root != root || *self.project_file != *config.file.text {
            return false;
        }
        // Directory by directory, in the order they were stamped; stops at the first
        // difference.
        let mut saved = self.dirs.iter();
        let same = visit_dirs(root, config, |path, files| {
            saved.next().is_some_and(|dir| {
                dir.path == path
                    && dir.files.len() == files.len()
                    && dir
                        .files
                        .iter()
                        .zip(files)
                        .all(|((name, size, modified), f)| {
                            // Bytes first: a valid UTF-8 name needs no conversion.
                            (name.as_bytes() == f.name.as_encoded_bytes()
                                || *name == f.name.to_string_lossy())
                                && *size == f.size
                                && *modified == f.modified
                        })
            })
        });
        same && saved.next().is_none()
    }
}

/// Calls `visit` with every directory under the project's resource paths that holds files
/// (path relative to the root, its files sorted by name), in a fixed order, while it
/// returns true. Returns whether every call did. Symbolic links are followed, as the
/// project's walk follows them, except a link back to a folder the walk is in (a loop);
/// unreadable entries are left out and a file whose metadata cannot be read is stamped
/// with size and time 0.
fn visit_dirs(
    root: &Path,
    config: &ProjectConfig,
    mut visit: impl FnMut(&str, &[FileStat]) -> bool,
) -> bool {
    // Installed packages count as input too: their project files and resource paths.
    let packages: Vec<ProjectConfig> = config
        .package_dirs(root)
        .iter()
        .filter_map(|dir| ProjectConfig::load_package(root, dir).ok())
        .collect();
    let package_files: Vec<String> = packages
        .iter()
        .map(|p| p.file.path.to_string_lossy().into_owned())
        .collect();
    let mut dirs: Vec<&String> = std::iter::once(config)
        .chain(&packages)
        .flat_map(|c| {
            c.model_paths
                .iter()
                .chain(&c.seed_paths)
                .chain(&c.macro_paths)
                .chain(&c.snapshot_paths)
                .chain(&c.test_paths)
                .chain(&c.analysis_paths)
                .chain(&c.docs_paths)
        })
        .chain(&package_files)
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        let mut abs = root.join(dir);
        let Ok(meta) = std::fs::metadata(&abs) else {
            continue;
        };
        let same = if meta.is_dir() {
            let mut walked = vec![std::fs::canonicalize(&abs).unwrap_or_else(|_| abs.clone())];
            visit_tree(&mut abs, &mut dir.clone(), &mut walked, &mut visit)
        } else if meta.is_file() {
            // A resource path naming a file: an entry of its own whose one file has an
            // empty name, which no file found in a directory has.
            let file = FileStat {
                name: OsStr::new(""),
                size: meta.len(),
                modified: modified_nanos(&meta),
            };
            visit(dir, &[file])
        } else {
            true
        };
        if !same {
            return false;
        }
    }
    true
}

/// [`visit_dirs`] for the directory `abs` (`rel` relative to the root) and those below:
/// its own files first, then its subdirectories by name. `walked` holds the real paths of
/// the directories the walk is in, `abs`'s last. All three are restored before returning.
fn visit_tree(
    abs: &mut PathBuf,
    rel: &mut String,
    walked: &mut Vec<PathBuf>,
    visit: &mut impl FnMut(&str, &[FileStat]) -> bool,
) -> bool {
    let Ok(read) = std::fs::read_dir(&*abs) else {
        return true;
    };
    // Listing order depends on the file system; by name (bytes, on Unix) it is fixed.
    let mut entries: Vec<(OsString, DirEntry)> = read
        .filter_map(Result::ok)
        .map(|e| (e.file_name(), e))
        .collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut files = Vec::new();
    // Each with its real path.
    let mut subdirs = Vec::new();
    let here = walked.last().cloned().unwrap_or_default();
    for (name, entry) in &entries {
        // The type comes with the directory listing on most file systems, and the
        // metadata is read relative to the open directory: no path lookup per file.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let linked = if kind.is_symlink() {
            // Only a link costs a lookup of what it points to.
            std::fs::metadata(entry.path()).ok()
        } else {
            None
        };
        if kind.is_file() || linked.as_ref().is_some_and(Metadata::is_file) {
            let meta = match linked {
                Some(meta) => Ok(meta),
                None => entry.metadata(),
            };
            let (size, modified) = meta.map_or((0, 0), |m| (m.len(), modified_nanos(&m)));
            files.push(FileStat {
                name,
                size,
                modified,
            });
        } else if kind.is_dir() {
            subdirs.push((name, here.join(name)));
        } else if linked.as_ref().is_some_and(Metadata::is_dir) {
            let Ok(real) = std::fs::canonicalize(entry.path()) else {
                continue;
            };
            if !walked.contains(&real) {
                subdirs.push((name, real));
            }
        }
    }
    if !files.is_empty() && !visit(rel, &files) {
        return false;
    }
    for (name, real) in subdirs {
        let rel_len = rel.len();
        rel.push('/');
        rel.push_str(&name.to_string_lossy());
        abs.push(name);
        walked.push(real);
        let same = visit_tree(abs, rel, walked, visit);
        walked.pop();
        abs.pop();
        rel.truncate(rel_len);
        if !same {
            return false;
        }
    }
    true
}

fn modified_nanos(meta: &Metadata) -> u128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

/// What the stamp keeps of variable `name`: `Some(None)` when unset, `Some(digest)` when
/// set, `None` when the value cannot be stamped (no key).
fn env_stamp(name: &str, value: Option<&str>) -> Option<Option<String>> {
    match value {
        None => Some(None),
        Some(value) => keyed_digest(name, value).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    /// A project with files at two depths; returns its root.
    fn project(name: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("mart_stamp_{name}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        write(&root, "dbt_project.yml", "name: p\nprofile: p\n");
        write(&root, "models/a.sql", "select 1");
        write(&root, "models/b.sql", "select 2");
        write(&root, "models/staging/deep/c.sql", "select 3");
        write(&root, "seeds/s.csv", "a\n1\n");
        root
    }

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn set_modified(root: &Path, path: &str, time: SystemTime) {
        let file = std::fs::File::options()
            .write(true)
            .open(root.join(path))
            .unwrap();
        file.set_modified(time).unwrap();
    }

    /// Stamps the project at `root`, applies `change`, and tells whether the stamp is
    /// still current.
    fn current_after(root: &Path, change: impl FnOnce(&Path)) -> bool {
        let config = ProjectConfig::load(root).unwrap();
        let stamp = InputStamp::scan(root, &config);
        change(root);
        let current = stamp.is_current(root, &config);
        std::fs::remove_dir_all(root).unwrap();
        current
    }

    #[test]
    fn unchanged_project_is_current() {
        assert!(current_after(&project("unchanged"), |_| {}));
    }

    /// Each scanned folder with its files' names.
    fn listing(stamp: &InputStamp) -> Vec<(&str, Vec<&str>)> {
        stamp
            .dirs
            .iter()
            .map(|d| {
                (
                    d.path.as_str(),
                    d.files.iter().map(|f| f.0.as_str()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn scan_lists_every_file_by_directory() {
        let root = project("listing");
        let config = ProjectConfig::load(&root).unwrap();
        let stamp = InputStamp::scan(&root, &config);
        std::fs::remove_dir_all(&root).unwrap();
        let listed = listing(&stamp);
        assert_eq!(
            listed,
            [
                ("models", vec!["a.sql", "b.sql"]),
                ("models/staging/deep", vec!["c.sql"]),
                ("seeds", vec!["s.csv"]),
            ]
        );
        assert_eq!(stamp.dirs[0].files[0].1, 8);
    }

    #[test]
    fn same_length_edit_with_new_mtime_is_not_current() {
        let root = project("edit");
        set_modified(
            &root,
            "models/a.sql",
            UNIX_EPOCH + Duration::from_secs(1_000_000),
        );
        assert!(!current_after(&root, |root| {
            write(root, "models/a.sql", "select 9");
            set_modified(
                root,
                "models/a.sql",
                UNIX_EPOCH + Duration::from_secs(2_000_000),
            );
        }));
    }

    #[test]
    fn added_file_is_not_current() {
        assert!(!current_after(&project("added"), |root| {
            write(root, "models/staging/d.sql", "select 4");
        }));
    }

    #[test]
    fn removed_file_is_not_current() {
        assert!(!current_after(&project("removed"), |root| {
            std::fs::remove_file(root.join("models/b.sql")).unwrap();
        }));
    }

    #[test]
    fn renamed_file_is_not_current() {
        // A rename keeps size and modification time: only the name tells.
        assert!(!current_after(&project("renamed"), |root| {
            std::fs::rename(root.join("models/b.sql"), root.join("models/c.sql")).unwrap();
        }));
    }

    #[test]
    fn renamed_directory_is_not_current() {
        assert!(!current_after(&project("renamed_dir"), |root| {
            std::fs::rename(root.join("models/staging"), root.join("models/stg")).unwrap();
        }));
    }

    #[test]
    fn new_empty_directory_is_current() {
        // Directories only matter through the files in them.
        assert!(current_after(&project("empty_dir"), |root| {
            std::fs::create_dir_all(root.join("models/aa/empty")).unwrap();
        }));
    }

    #[test]
    fn nested_file_change_is_not_current() {
        assert!(!current_after(&project("nested"), |root| {
            write(root, "models/staging/deep/c.sql", "select 33");
        }));
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_file_name_is_current_until_removed() {
        use std::os::unix::ffi::OsStrExt;
        let root = project("non_utf8");
        let name = root.join("models").join(OsStr::from_bytes(b"bad\xff.sql"));
        std::fs::write(&name, "select 5").unwrap();
        let config = ProjectConfig::load(&root).unwrap();
        let stamp = InputStamp::scan(&root, &config);
        assert_eq!(stamp.dirs[0].files[2].0, "bad\u{fffd}.sql");
        assert!(stamp.is_current(&root, &config));
        std::fs::remove_file(name).unwrap();
        assert!(!stamp.is_current(&root, &config));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn linked_folders_and_files_are_stamped_and_loops_are_not_followed() {
        use std::os::unix::fs::symlink;
        let root = project("links");
        write(&root, "shared/deep/d.sql", "select 4");
        write(&root, "e.sql", "select 5");
        symlink(root.join("shared"), root.join("models/shared")).unwrap();
        symlink("../e.sql", root.join("models/e.sql")).unwrap();
        symlink("..", root.join("models/staging/up")).unwrap();
        let config = ProjectConfig::load(&root).unwrap();
        let stamp = InputStamp::scan(&root, &config);
        let listed = listing(&stamp);
        assert_eq!(
            listed,
            [
                ("models", vec!["a.sql", "b.sql", "e.sql"]),
                ("models/shared/deep", vec!["d.sql"]),
                ("models/staging/deep", vec!["c.sql"]),
                ("seeds", vec!["s.csv"]),
            ]
        );
        // The file a link points to is stamped, not the link.
        assert_eq!(stamp.dirs[0].files[2].1, 8);
        assert!(stamp.is_current(&root, &config));
        write(&root, "shared/deep/d.sql", "select 44");
        assert!(!stamp.is_current(&root, &config));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn file_outside_resource_paths_does_not_matter() {
        assert!(current_after(&project("outside"), |root| {
            write(root, "target/run/x.sql", "select 1");
        }));
    }
}

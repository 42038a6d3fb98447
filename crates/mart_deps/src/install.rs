//! `deps` as dbt runs it: resolve and write package-lock.yml when there is none, when
//! `--upgrade` asks, or when its `sha1_hash` no longer matches the packages spec; then
//! (unless `--lock`) empty the install path and install exactly what the lock says.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{DepsError, Origin, Warning};
use crate::fetch::Fetcher;
use crate::hash::packages_sha1;
use crate::lock::{lock_yaml, LockFile, LOCK_FILE_NAME};
use crate::render::EnvLookup;
use crate::resolve::{project_name, Pinned, Resolver};
use crate::spec::read_packages;

#[derive(Clone, Debug)]
pub struct DepsOptions {
    /// Resolve again, ignoring the lock (`--upgrade`).
    pub upgrade: bool,
    /// Only resolve and write the lock; install nothing (`--lock`).
    pub lock_only: bool,
    /// The hub's base URL (see [`crate::hub_url_from_env`]).
    pub hub_url: String,
}

/// What `deps` reports as it goes, in dbt's words (see `Display`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DepsEvent {
    Warning(Warning),
    NoPackages,
    LockUpdated { path: PathBuf },
    Installing { package: String },
    Installed { from: String },
    UpdateAvailable { latest: String },
    UpToDate,
    Subdirectory { subdirectory: String },
    UpdatesAvailable { packages: Vec<String> },
}

impl fmt::Display for DepsEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Warning(w) => write!(f, "Warning: {w}"),
            Self::NoPackages => write!(f, "Warning: No packages were found in packages.yml"),
            Self::LockUpdated { path } => {
                write!(f, "Updating lock file in file path: {}", path.display())
            }
            Self::Installing { package } => write!(f, "Installing {package}"),
            Self::Installed { from } => write!(f, "Installed from {from}"),
            Self::UpdateAvailable { latest } => write!(f, "Updated version available: {latest}"),
            Self::UpToDate => write!(f, "Up to date!"),
            Self::Subdirectory { subdirectory } => write!(f, "and subdirectory {subdirectory}"),
            Self::UpdatesAvailable { packages } => write!(
                f,
                "Updates available for packages: {packages:?}\nUpdate your versions in packages.yml, then run mart deps"
            ),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DepsOutcome {
    /// Whether package-lock.yml was (re)written.
    pub lock_written: bool,
    /// Each installed package: its project name and folder.
    pub installed: Vec<(String, PathBuf)>,
}

/// Runs `deps` for the project in `project_dir` (whose own name is `root_name`),
/// installing into `install_path` (relative paths are relative to the project).
pub fn run_deps(
    project_dir: &Path,
    install_path: &Path,
    root_name: &str,
    options: &DepsOptions,
    env: EnvLookup<'_>,
    on_event: &mut dyn FnMut(DepsEvent),
) -> Result<DepsOutcome, DepsError> {
    let root = project_dir
        .canonicalize()
        .map_err(|e| DepsError::io("open the project folder", project_dir, e))?;
    let install_path = root.join(install_path);
    let spec = read_packages(&root, env)?;
    let entries = match spec {
        Some(file) => {
            for w in file.warnings {
                on_event(DepsEvent::Warning(w));
            }
            file.entries
        }
        None => Vec::new(),
    };
    let lock_path = root.join(LOCK_FILE_NAME);
    let hash = packages_sha1(&entries);
    let current = LockFile::read(&lock_path, env)?;
    let stale = options.upgrade
        || current
            .as_ref()
            .is_none_or(|lock| lock.sha1_hash.as_deref() != Some(hash.as_str()));
    let mut fetcher = Fetcher::new(&options.hub_url)
        .map_err(|e| DepsError::io("create a downloads folder in", &std::env::temp_dir(), e))?;
    let mut outcome = DepsOutcome::default();
    if stale {
        if entries.is_empty() {
            // dbt would go on to install an out-of-date lock; an emptied spec installs none.
            on_event(DepsEvent::NoPackages);
            if !options.lock_only {
                clear_install_path(&root, &install_path)?;
            }
            return Ok(outcome);
        } else {
            let mut resolver = Resolver {
                root_dir: &root,
                fetcher: &mut fetcher,
                env,
                warnings: Vec::new(),
            };
            let resolved = resolver.resolve(&entries, root_name);
            for w in std::mem::take(&mut resolver.warnings) {
                on_event(DepsEvent::Warning(w));
            }
            let text = lock_yaml(&resolved?, &hash);
            std::fs::write(&lock_path, text).map_err(|e| DepsError::io("write", &lock_path, e))?;
            outcome.lock_written = true;
            on_event(DepsEvent::LockUpdated {
                path: lock_path.clone(),
            });
        }
    }
    if options.lock_only {
        return Ok(outcome);
    }
    clear_install_path(&root, &install_path)?;
    let lock = LockFile::read(&lock_path, env)?;
    let Some(lock) = lock.filter(|l| !l.entries.is_empty()) else {
        on_event(DepsEvent::NoPackages);
        return Ok(outcome);
    };
    let mut resolver = Resolver {
        root_dir: &root,
        fetcher: &mut fetcher,
        env,
        warnings: Vec::new(),
    };
    let mut to_upgrade = Vec::new();
    for entry in &lock.entries {
        let pinned = resolver.pin_entry(entry)?;
        on_event(DepsEvent::Installing {
            package: pinned.display.clone(),
        });
        let dest = install_one(&pinned, &install_path, resolver.fetcher)?;
        on_event(DepsEvent::Installed {
            from: pinned.version_name.clone(),
        });
        if let (Some((_, latest)), crate::LockSource::Hub { version, .. }) =
            (&pinned.hub, &pinned.lock)
        {
            if latest != version {
                to_upgrade.push(pinned.display.clone());
                on_event(DepsEvent::UpdateAvailable {
                    latest: latest.clone(),
                });
            } else {
                on_event(DepsEvent::UpToDate);
            }
        }
        if let Some(sub) = &pinned.subdirectory {
            on_event(DepsEvent::Subdirectory {
                subdirectory: sub.clone(),
            });
        }
        outcome.installed.push(dest);
    }
    if !to_upgrade.is_empty() {
        on_event(DepsEvent::UpdatesAvailable {
            packages: to_upgrade,
        });
    }
    Ok(outcome)
}

/// dbt removes the whole install path and makes it anew; refuse a path that holds the
/// project itself.
fn clear_install_path(root: &Path, install_path: &Path) -> Result<(), DepsError> {
    let real = install_path
        .canonicalize()
        .unwrap_or_else(|_| install_path.to_path_buf());
    if root.starts_with(&real) {
        return Err(DepsError::file(
            Origin::new(root.join("dbt_project.yml"), None),
            format!(
                "packages-install-path {} holds the project itself; mart deps would delete it",
                install_path.display()
            ),
            "set packages-install-path to a folder inside the project, such as dbt_packages",
        ));
    }
    if install_path.symlink_metadata().is_ok() {
        std::fs::remove_dir_all(install_path)
            .map_err(|e| DepsError::io("remove", install_path, e))?;
    }
    std::fs::create_dir_all(install_path).map_err(|e| DepsError::io("create", install_path, e))
}

fn install_one(
    pinned: &Pinned,
    install_path: &Path,
    fetcher: &mut Fetcher,
) -> Result<(String, PathBuf), DepsError> {
    let (source, name, link) = match (&pinned.dir, &pinned.hub) {
        (_, Some((tarball, _))) => {
            let dir = fetcher.tarball(tarball).map_err(|why| {
                DepsError::package(
                    &pinned.origin,
                    &pinned.display,
                    why,
                    "run mart deps again; check the network",
                )
            })?;
            let name = project_name(&dir, &pinned.origin, &pinned.display)?;
            (dir, name, false)
        }
        (Some(dir), None) => {
            let link = matches!(pinned.lock, crate::LockSource::Local { .. });
            (dir.clone(), pinned.name.clone(), link)
        }
        (None, None) => {
            return Err(DepsError::package(
                &pinned.origin,
                &pinned.display,
                "nothing to install",
                "run mart deps --upgrade",
            ))
        }
    };
    let dest = install_path.join(&name);
    if link {
        if symlink_dir(&source, &dest).is_err() {
            copy_dir(&source, &dest)?;
        }
    } else if std::fs::rename(&source, &dest).is_err() {
        // Across file systems (the downloads folder is in the temp dir) rename fails.
        copy_dir(&source, &dest)?;
    }
    Ok((name, dest))
}

#[cfg(unix)]
fn symlink_dir(source: &Path, dest: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(source, dest)
}

#[cfg(windows)]
fn symlink_dir(source: &Path, dest: &Path) -> std::io::Result<()> {
    std::os::windows::fs::symlink_dir(source, dest)
}

/// Copies a folder tree; symbolic links inside are copied as links on Unix.
fn copy_dir(source: &Path, dest: &Path) -> Result<(), DepsError> {
    std::fs::create_dir_all(dest).map_err(|e| DepsError::io("create", dest, e))?;
    let entries = std::fs::read_dir(source).map_err(|e| DepsError::io("read", source, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| DepsError::io("read", source, e))?;
        let from = entry.path();
        let to = dest.join(entry.file_name());
        let kind = entry
            .file_type()
            .map_err(|e| DepsError::io("read", &from, e))?;
        if kind.is_dir() {
            copy_dir(&from, &to)?;
        } else if kind.is_symlink() {
            copy_link(&from, &to)?;
        } else {
            std::fs::copy(&from, &to).map_err(|e| DepsError::io("copy", &from, e))?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn copy_link(from: &Path, to: &Path) -> Result<(), DepsError> {
    let target = std::fs::read_link(from).map_err(|e| DepsError::io("read", from, e))?;
    std::os::unix::fs::symlink(&target, to).map_err(|e| DepsError::io("create", to, e))
}

#[cfg(not(unix))]
fn copy_link(from: &Path, to: &Path) -> Result<(), DepsError> {
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|e| DepsError::io("copy", from, e))
}

#[cfg(test)]
#[path = "install_tests.rs"]
mod tests;

//! From package entries to pinned packages, as dbt resolves them: breadth first, each
//! package's own packages.yml (or, for hub packages, the index's list) adding to the
//! listing; hub ranges from every requirer intersected, one git revision per repository,
//! and every installed project name unique.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use crate::error::{DepsError, Origin, Warning};
use crate::fetch::Fetcher;
use crate::lock::{LockEntry, LockSource};
use crate::render::EnvLookup;
use crate::spec::{read_packages, GitSpec, PackageEntry, Source, TarballSpec};
use mart_project::dbt_version::Constraint;

mod hub;

/// Who asked for a package, and where.
#[derive(Clone, Debug)]
struct Requirement {
    /// `package <name>`, or empty for the project's own packages file.
    by: String,
    origin: Origin,
    /// The root packages.yml entry this requirement descends from.
    root_origin: Origin,
}

impl Requirement {
    fn describe(&self) -> String {
        if self.by.is_empty() {
            self.origin.to_string()
        } else {
            format!("{} ({})", self.by, self.origin)
        }
    }
}

enum Unpinned {
    Hub {
        package: String,
        ranges: Vec<(Vec<Constraint>, Vec<String>, Requirement)>,
        prerelease: bool,
    },
    Git {
        spec: GitSpec,
        revisions: Vec<(String, Requirement)>,
    },
    Local {
        path: PathBuf,
        written: String,
    },
    Tarball {
        spec: TarballSpec,
    },
}

struct Listed {
    key: String,
    unpinned: Unpinned,
    first: Requirement,
}

/// A package pinned to one version, revision or folder.
#[derive(Clone, Debug)]
pub(crate) struct Pinned {
    /// dbt's name for it in "Installing ...": org/name, the git URL, the local path.
    pub display: String,
    /// dbt's "Installed from ..." text.
    pub version_name: String,
    /// The project name it installs under.
    pub name: String,
    pub lock: LockSource,
    pub origin: Origin,
    /// Where its files are: the local folder, the checkout or the unpacked tarball;
    /// none for a hub package until its tarball is downloaded.
    pub dir: Option<PathBuf>,
    /// For hub packages: the tarball URL and the highest installable version.
    pub hub: Option<(String, String)>,
    pub subdirectory: Option<String>,
    /// The packages it asks for, with the folder their `local:` paths are relative to.
    pub wants: Vec<PackageEntry>,
    pub wants_base: PathBuf,
}

pub(crate) struct Resolver<'a> {
    pub root_dir: &'a Path,
    pub fetcher: &'a mut Fetcher,
    pub env: EnvLookup<'a>,
    pub warnings: Vec<Warning>,
}

impl Resolver<'_> {
    /// Resolves the root entries and everything they pull in; the lock's entries, in
    /// dbt's order (root entries first, then breadth first).
    pub(crate) fn resolve(
        &mut self,
        entries: &[PackageEntry],
        root_name: &str,
    ) -> Result<Vec<LockEntry>, DepsError> {
        let mut listed: Vec<Listed> = Vec::new();
        let mut pending: Vec<(PackageEntry, PathBuf, Requirement)> = entries
            .iter()
            .map(|e| {
                let req = Requirement {
                    by: String::new(),
                    origin: e.origin.clone(),
                    root_origin: e.origin.clone(),
                };
                (e.clone(), self.root_dir.to_path_buf(), req)
            })
            .collect();
        let mut expanded = HashSet::new();
        while !pending.is_empty() {
            let mut next = Vec::new();
            for (entry, base, req) in pending {
                let at = self.incorporate(&mut listed, &entry, &base, &req)?;
                let pinned = self.pin(&listed[at], false)?;
                if !expanded.insert(format!("{}|{:?}", listed[at].key, pinned.lock)) {
                    continue;
                }
                for want in pinned.wants {
                    let by = Requirement {
                        by: format!("package {}", pinned.name),
                        origin: want.origin.clone(),
                        root_origin: req.root_origin.clone(),
                    };
                    next.push((want, pinned.wants_base.clone(), by));
                }
            }
            pending = next;
        }
        let pins = listed
            .iter()
            .map(|l| self.pin(l, true).map(|p| (p, &l.first)))
            .collect::<Result<Vec<_>, _>>()?;
        check_unique_names(&pins, root_name)?;
        Ok(pins
            .into_iter()
            .map(|(p, _)| LockEntry {
                name: p.name,
                source: p.lock,
            })
            .collect())
    }

    /// Pins one entry on its own (an entry of the lock file).
    pub(crate) fn pin_entry(&mut self, entry: &PackageEntry) -> Result<Pinned, DepsError> {
        let req = Requirement {
            by: String::new(),
            origin: entry.origin.clone(),
            root_origin: entry.origin.clone(),
        };
        let mut listed = Vec::new();
        let root = self.root_dir.to_path_buf();
        self.incorporate(&mut listed, entry, &root, &req)?;
        self.pin(&listed[0], false)
    }

    fn incorporate(
        &mut self,
        listed: &mut Vec<Listed>,
        entry: &PackageEntry,
        base: &Path,
        req: &Requirement,
    ) -> Result<usize, DepsError> {
        let (key, fresh) = match &entry.source {
            Source::Hub(hub) => {
                let constraints = hub
                    .versions
                    .iter()
                    .map(|v| Constraint::parse(v))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|why| {
                        DepsError::package(&entry.origin, &hub.package, why, "fix `version:`")
                    })?;
                let ranges = vec![(constraints, hub.versions.clone(), req.clone())];
                let unpinned = Unpinned::Hub {
                    package: hub.package.clone(),
                    ranges,
                    prerelease: hub.install_prerelease,
                };
                (hub.package.clone(), unpinned)
            }
            Source::Git(git) => {
                let url = git.url.strip_suffix(".git").unwrap_or(&git.url);
                let key = match &git.subdirectory {
                    Some(sub) => format!("{url}/{sub}"),
                    None => url.to_string(),
                };
                let revisions = git
                    .revision
                    .iter()
                    .map(|r| (r.clone(), req.clone()))
                    .collect();
                let unpinned = Unpinned::Git {
                    spec: git.clone(),
                    revisions,
                };
                (key, unpinned)
            }
            Source::Local { path } => {
                let joined = base.join(path);
                let resolved = joined.canonicalize().map_err(|e| {
                    DepsError::package(
                        &entry.origin,
                        path,
                        format!(
                            "local package path {} cannot be opened: {e}",
                            joined.display()
                        ),
                        format!("fix `local:` (it is relative to {})", base.display()),
                    )
                })?;
                let written = if base == self.root_dir {
                    path.clone()
                } else {
                    relative_path(&resolved, self.root_dir)
                };
                let key = resolved.display().to_string();
                (
                    key,
                    Unpinned::Local {
                        path: resolved,
                        written,
                    },
                )
            }
            Source::Tarball(spec) => (spec.url.clone(), Unpinned::Tarball { spec: spec.clone() }),
        };
        let Some(at) = listed.iter().position(|l| l.key == key) else {
            listed.push(Listed {
                key,
                unpinned: fresh,
                first: req.clone(),
            });
            return Ok(listed.len() - 1);
        };
        match (&mut listed[at].unpinned, fresh) {
            (
                Unpinned::Hub {
                    ranges, prerelease, ..
                },
                Unpinned::Hub {
                    ranges: more,
                    prerelease: more_pre,
                    ..
                },
            ) => {
                ranges.extend(more);
                *prerelease |= more_pre;
            }
            (
                Unpinned::Git { revisions, .. },
                Unpinned::Git {
                    revisions: more, ..
                },
            ) => {
                revisions.extend(more);
            }
            (Unpinned::Local { .. }, Unpinned::Local { .. })
            | (Unpinned::Tarball { .. }, Unpinned::Tarball { .. }) => {}
            _ => {
                return Err(DepsError::package(
                    &req.root_origin,
                    &key,
                    format!(
                        "{} and {} name it with different kinds of source",
                        listed[at].first.describe(),
                        req.describe()
                    ),
                    "name each package with one kind of source",
                ))
            }
        }
        Ok(at)
    }

    fn pin(&mut self, listed: &Listed, final_pass: bool) -> Result<Pinned, DepsError> {
        let origin = listed.first.root_origin.clone();
        match &listed.unpinned {
            Unpinned::Hub {
                package,
                ranges,
                prerelease,
            } => self.pin_hub(package, ranges, *prerelease, &origin),
            Unpinned::Git { spec, revisions } => {
                let mut distinct: Vec<&str> = revisions.iter().map(|(r, _)| r.as_str()).collect();
                distinct.sort_unstable();
                distinct.dedup();
                let revision = match distinct.as_slice() {
                    [] => None,
                    [one] => Some(*one),
                    _ => {
                        let asks: Vec<String> = revisions
                            .iter()
                            .map(|(r, req)| format!("{} asks for `{r}`", req.describe()))
                            .collect();
                        return Err(DepsError::package(
                            &origin,
                            &spec.url,
                            format!("requested with more than one revision: {}", asks.join("; ")),
                            "ask for the same revision everywhere",
                        ));
                    }
                };
                if final_pass && spec.warn_unpinned {
                    self.warn_unpinned(spec, revision, &origin);
                }
                self.pin_git(spec, revision, &origin)
            }
            Unpinned::Local { path, written } => {
                let name = project_name(path, &origin, written)?;
                let (wants, warnings) = self.wants_of(path, &origin, written)?;
                self.warnings.extend(warnings);
                Ok(Pinned {
                    display: written.clone(),
                    version_name: format!("<local @ {written}>"),
                    name,
                    lock: LockSource::Local {
                        local: written.clone(),
                    },
                    origin,
                    dir: Some(path.clone()),
                    hub: None,
                    subdirectory: None,
                    wants,
                    wants_base: path.clone(),
                })
            }
            Unpinned::Tarball { spec } => {
                let dir = self.fetcher.tarball(&spec.url).map_err(|why| {
                    DepsError::package(&origin, &spec.name, why, "check the `tarball:` URL")
                })?;
                let (wants, warnings) = self.wants_of(&dir, &origin, &spec.name)?;
                self.warnings.extend(warnings);
                Ok(Pinned {
                    display: spec.name.clone(),
                    version_name: format!("tarball (url: {})", spec.url),
                    name: spec.name.clone(),
                    lock: LockSource::Tarball {
                        tarball: spec.url_unrendered.clone(),
                    },
                    origin,
                    dir: Some(dir),
                    hub: None,
                    subdirectory: None,
                    wants,
                    wants_base: self.root_dir.to_path_buf(),
                })
            }
        }
    }

    fn warn_unpinned(&mut self, spec: &GitSpec, revision: Option<&str>, origin: &Origin) {
        let how = match revision {
            None | Some("HEAD") => "is not pinned, using HEAD (default branch)".to_string(),
            Some(branch @ ("main" | "master")) => format!("is pinned to the \"{branch}\" branch"),
            Some(_) => return,
        };
        self.warnings.push(Warning {
            origin: origin.clone(),
            message: format!(
                "The git package \"{}\" {how}. This can introduce breaking changes into your project without warning! Pin it to a tag or commit (or set `warn-unpinned: false`).",
                spec.url_unrendered
            ),
        });
    }

    fn pin_git(
        &mut self,
        spec: &GitSpec,
        revision: Option<&str>,
        origin: &Origin,
    ) -> Result<Pinned, DepsError> {
        let checkout = self
            .fetcher
            .git(&spec.url, revision, spec.subdirectory.as_deref())
            .map_err(|why| {
                DepsError::package(
                    origin,
                    &spec.url_unrendered,
                    why,
                    "check the `git:` URL, `revision:` and `subdirectory:`",
                )
            })?;
        let display = match &spec.subdirectory {
            Some(sub) => format!("{}/{sub}", spec.url_unrendered),
            None => spec.url_unrendered.clone(),
        };
        let name = project_name(&checkout.dir, origin, &display)?;
        let (wants, warnings) = self.wants_of(&checkout.dir, origin, &display)?;
        self.warnings.extend(warnings);
        Ok(Pinned {
            display,
            version_name: format!("revision {}", checkout.sha),
            name,
            lock: LockSource::Git {
                git: spec.url_unrendered.clone(),
                revision: checkout.sha,
                subdirectory: spec.subdirectory.clone(),
            },
            origin: origin.clone(),
            dir: Some(checkout.dir),
            hub: None,
            subdirectory: spec.subdirectory.clone(),
            wants,
            wants_base: self.root_dir.to_path_buf(),
        })
    }

    fn wants_of(
        &self,
        dir: &Path,
        origin: &Origin,
        package: &str,
    ) -> Result<(Vec<PackageEntry>, Vec<Warning>), DepsError> {
        match read_packages(dir, self.env) {
            Ok(Some(file)) => Ok((file.entries, file.warnings)),
            Ok(None) => Ok((Vec::new(), Vec::new())),
            Err(e) => Err(DepsError::package(
                origin,
                package,
                format!("its own packages file is invalid: {e}"),
                e.help().to_string(),
            )),
        }
    }
}

/// The `name:` of the dbt_project.yml in `dir`.
pub(crate) fn project_name(
    dir: &Path,
    origin: &Origin,
    package: &str,
) -> Result<String, DepsError> {
    let path = dir.join("dbt_project.yml");
    let missing = |why: String| {
        DepsError::package(
            origin,
            package,
            why,
            "Verify that each entry within packages.yml (and their transitive dependencies) contains a file named dbt_project.yml with a `name:`",
        )
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        missing(format!(
            "no dbt_project.yml found at expected path {} ({e})",
            path.display()
        ))
    })?;
    let map = crate::spec::parse_yaml_map(&path, &text)?;
    map.get("name")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| missing(format!("{} has no `name:`", path.display())))
}

fn check_unique_names(pins: &[(Pinned, &Requirement)], root_name: &str) -> Result<(), DepsError> {
    for (i, (pin, req)) in pins.iter().enumerate() {
        if pin.name == root_name {
            return Err(DepsError::package(
                &req.root_origin,
                &pin.display,
                format!("Found a dependency with the same name as the root project \"{root_name}\" (asked for by {}). Package names must be unique in a project.", req.describe()),
                "rename one of these projects",
            ));
        }
        if let Some((other, other_req)) = pins[..i].iter().find(|(p, _)| p.name == pin.name) {
            return Err(DepsError::package(
                &req.root_origin,
                &pin.name,
                format!(
                    "Found duplicate project \"{}\": {} (from {}) and {} (from {}) both install it",
                    pin.name,
                    other.display,
                    other_req.describe(),
                    pin.display,
                    req.describe()
                ),
                "keep one source for each package",
            ));
        }
    }
    Ok(())
}

/// `path` relative to `base` (both absolute), with `..` where needed.
fn relative_path(path: &Path, base: &Path) -> String {
    let path: Vec<Component> = path.components().collect();
    let base: Vec<Component> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..base.len() {
        out.push("..");
    }
    for c in &path[common..] {
        out.push(c);
    }
    out.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_out_of_the_base() {
        assert_eq!(
            relative_path(Path::new("/a/b/c"), Path::new("/a/d")),
            "../b/c"
        );
        assert_eq!(relative_path(Path::new("/a/d/e"), Path::new("/a/d")), "e");
    }
}

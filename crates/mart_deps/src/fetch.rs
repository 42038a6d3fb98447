//! Getting package sources into a temporary downloads folder: git checkouts (the `git`
//! CLI), tarballs (gzip + tar, the single top folder taken as the package) and the hub's
//! JSON index of a package. Each is fetched once per run. Errors are sentences; the
//! resolver adds the file, line and package.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::http::{Http, HttpError};

/// One version of a hub package, from `<hub>/api/v1/<org>/<name>.json`.
#[derive(Clone, Debug)]
pub(crate) struct HubVersion {
    /// The project name it installs under.
    pub name: String,
    /// Its own package entries (as JSON package specs).
    pub packages: Vec<Value>,
    pub tarball: String,
    /// `require_dbt_version` ranges; empty means any.
    pub require_dbt_version: Vec<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct HubIndex {
    pub versions: Vec<(String, HubVersion)>,
}

#[derive(Clone, Debug)]
pub(crate) struct GitCheckout {
    /// The package's folder: the clone, or its subdirectory.
    pub dir: PathBuf,
    pub sha: String,
}

pub(crate) struct Fetcher {
    downloads: tempfile::TempDir,
    http: Http,
    hub_url: String,
    hub: HashMap<String, Option<HubIndex>>,
    git: HashMap<(String, Option<String>), (PathBuf, String)>,
    tarballs: HashMap<String, PathBuf>,
    next_dir: usize,
}

impl Fetcher {
    pub(crate) fn new(hub_url: &str) -> std::io::Result<Self> {
        Ok(Self {
            downloads: tempfile::Builder::new().prefix("mart-deps-").tempdir()?,
            http: Http::new(),
            hub_url: hub_url.to_string(),
            hub: HashMap::new(),
            git: HashMap::new(),
            tarballs: HashMap::new(),
            next_dir: 0,
        })
    }

    pub(crate) fn hub_url(&self) -> &str {
        &self.hub_url
    }

    fn fresh_dir(&mut self, kind: &str) -> PathBuf {
        self.next_dir += 1;
        self.downloads
            .path()
            .join(format!("{kind}-{}", self.next_dir))
    }

    /// The index of `org/name`; `None` if the hub does not know it.
    pub(crate) fn hub_index(&mut self, package: &str) -> Result<Option<&HubIndex>, String> {
        if !self.hub.contains_key(package) {
            let url = format!(
                "{}/api/v1/{package}.json",
                self.hub_url.trim_end_matches('/')
            );
            let index = match self.http.get(&url) {
                Ok(body) => Some(parse_hub_index(&url, &body)?),
                Err(HttpError::NotFound) => None,
                Err(HttpError::Failed(why)) => return Err(why),
            };
            self.hub.insert(package.to_string(), index);
        }
        Ok(self.hub.get(package).and_then(Option::as_ref))
    }

    /// Downloads and unpacks a .tar.gz; returns its single top folder.
    pub(crate) fn tarball(&mut self, url: &str) -> Result<PathBuf, String> {
        if let Some(dir) = self.tarballs.get(url) {
            return Ok(dir.clone());
        }
        let body = self.http.get(url).map_err(|e| match e {
            HttpError::NotFound => format!("GET {url} answered HTTP 404 (not found)"),
            HttpError::Failed(why) => why,
        })?;
        let dest = self.fresh_dir("tarball");
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(body.as_slice()));
        archive
            .unpack(&dest)
            .map_err(|e| format!("cannot unpack the tarball from {url}: {e}"))?;
        let top = single_top_folder(&dest).ok_or_else(|| {
            format!("Incorrect structure for package extracted from {url}: the tarball must hold one folder with the package inside")
        })?;
        self.tarballs.insert(url.to_string(), top.clone());
        Ok(top)
    }

    /// Clones `url` at `revision` (branch, tag or full commit SHA; none is the default
    /// branch) and returns the package folder (`subdirectory` of it, if given).
    pub(crate) fn git(
        &mut self,
        url: &str,
        revision: Option<&str>,
        subdirectory: Option<&str>,
    ) -> Result<GitCheckout, String> {
        let key = (url.to_string(), revision.map(str::to_string));
        let (clone, sha) = match self.git.get(&key) {
            Some(found) => found.clone(),
            None => {
                let dir = self.fresh_dir("git");
                clone_at(url, revision, &dir)?;
                let sha = git(&dir, &["rev-parse", "HEAD"])?.trim().to_string();
                self.git.insert(key, (dir.clone(), sha.clone()));
                // A later install from the lock asks for the commit itself.
                self.git.insert(
                    (url.to_string(), Some(sha.clone())),
                    (dir.clone(), sha.clone()),
                );
                (dir, sha)
            }
        };
        let dir = match subdirectory {
            Some(sub) => {
                let dir = clone.join(sub);
                if !dir.is_dir() {
                    return Err(format!(
                        "subdirectory `{sub}` does not exist in {url} at revision {}",
                        revision.unwrap_or("HEAD")
                    ));
                }
                dir
            }
            None => clone,
        };
        Ok(GitCheckout { dir, sha })
    }
}

fn is_commit(revision: &str) -> bool {
    revision.len() == 40 && revision.bytes().all(|b| b.is_ascii_hexdigit())
}

fn clone_at(url: &str, revision: Option<&str>, dir: &Path) -> Result<(), String> {
    let dir_arg = dir.to_string_lossy();
    let cwd = dir.parent().unwrap_or(dir);
    match revision {
        Some(sha) if is_commit(sha) => {
            git(
                cwd,
                &[
                    "clone",
                    "--depth",
                    "1",
                    "--no-checkout",
                    "--",
                    url,
                    &dir_arg,
                ],
            )
            .map_err(|e| format!("cannot clone {url}: {e}"))?;
            // A server may refuse a commit that is no branch tip; then take the history.
            if git(dir, &["fetch", "--depth", "1", "origin", sha]).is_err() {
                git(dir, &["fetch", "--unshallow", "origin"])
                    .map_err(|e| format!("cannot fetch {url}: {e}"))?;
            }
            git(dir, &["reset", "--hard", sha])
                .map(drop)
                .map_err(|e| format!("revision `{sha}` is not a commit of {url}: {e}"))
        }
        Some(rev) => git(
            cwd,
            &[
                "clone", "--depth", "1", "--branch", rev, "--", url, &dir_arg,
            ],
        )
        .map(drop)
        .map_err(|e| {
            format!("cannot check out revision `{rev}` of {url} (no such branch or tag?): {e}")
        }),
        None => git(cwd, &["clone", "--depth", "1", "--", url, &dir_arg])
            .map(drop)
            .map_err(|e| format!("cannot clone {url}: {e}")),
    }
}

/// Runs `git` in `cwd`, never prompting for credentials; stdout, or stderr's last line.
fn git(cwd: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(cwd)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .output()
        .map_err(|e| format!("cannot run git (is it installed and on PATH?): {e}"))?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let why = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("git failed")
        .trim()
        .to_string();
    Err(why)
}

/// The one folder an unpacked tarball holds (a pax global header file aside).
fn single_top_folder(dir: &Path) -> Option<PathBuf> {
    let entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_name() != "pax_global_header")
        .map(|e| e.path())
        .collect();
    match entries.as_slice() {
        [only] if only.is_dir() => Some(only.clone()),
        _ => None,
    }
}

fn parse_hub_index(url: &str, body: &[u8]) -> Result<HubIndex, String> {
    let bad = |why: &str| format!("the hub's answer for {url} is not a package index: {why}");
    let json: Value = serde_json::from_slice(body).map_err(|e| bad(&e.to_string()))?;
    let versions = json
        .get("versions")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("no `versions` mapping"))?;
    let mut out = Vec::with_capacity(versions.len());
    for (version, info) in versions {
        let tarball = info
            .pointer("/downloads/tarball")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(&format!("version {version} has no downloads.tarball")))?;
        let name = info
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(&format!("version {version} has no name")))?;
        let packages = match info.get("packages") {
            Some(Value::Array(items)) => items.clone(),
            _ => Vec::new(),
        };
        let require_dbt_version = match info.get("require_dbt_version") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        out.push((
            version.clone(),
            HubVersion {
                name: name.to_string(),
                packages,
                tarball: tarball.to_string(),
                require_dbt_version,
            },
        ));
    }
    Ok(HubIndex { versions: out })
}

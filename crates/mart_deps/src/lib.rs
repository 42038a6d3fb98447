//! `mart deps`, dbt's package installer: reads `packages.yml` (or `dependencies.yml`),
//! resolves local, git, tarball and dbt Hub packages with their own dependencies,
//! writes `package-lock.yml` (with dbt's `sha1_hash`, so a lock dbt wrote is honoured and
//! the other way round) and installs each package under the name of its own
//! `dbt_project.yml` in the install path. It prints nothing: progress goes to a
//! callback as [`DepsEvent`]s.

mod error;
mod fetch;
mod hash;
mod http;
mod install;
mod lock;
mod render;
mod resolve;
mod spec;
mod yaml_lines;

#[cfg(test)]
mod test_support;

pub use error::{DepsError, Origin, Warning};
pub use hash::packages_sha1;
pub use install::{run_deps, DepsEvent, DepsOptions, DepsOutcome};
pub use lock::{LockEntry, LockFile, LockSource, LOCK_FILE_NAME};
pub use mart_project::dbt_version::{Constraint, VersionRange};
pub use spec::{
    read_packages, GitSpec, HubSpec, PackageEntry, PackagesFile, Source, TarballSpec,
    DEPENDENCIES_FILE_NAME, PACKAGES_FILE_NAME,
};

/// The dbt Hub, unless `DBT_PACKAGE_HUB_URL` names another (as dbt reads it).
pub const DEFAULT_HUB_URL: &str = "https://hub.getdbt.com/";

/// The hub base URL from the environment variable dbt reads, else the public hub.
pub fn hub_url_from_env() -> String {
    std::env::var("DBT_PACKAGE_HUB_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_HUB_URL.to_string())
}

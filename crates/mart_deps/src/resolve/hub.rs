//! Pinning a hub package: the intersection of every requirer's range, the versions the
//! index lists whose `require_dbt_version` admits mart, and the highest of them.

use super::{Pinned, Requirement, Resolver};
use crate::error::{DepsError, Origin};
use crate::lock::LockSource;
use crate::spec::parse_json_entries;
use mart_project::dbt_version::{Constraint, VersionRange};

impl Resolver<'_> {
    pub(super) fn pin_hub(
        &mut self,
        package: &str,
        ranges: &[(Vec<Constraint>, Vec<String>, Requirement)],
        prerelease: bool,
        origin: &Origin,
    ) -> Result<Pinned, DepsError> {
        let mut range = VersionRange::default();
        for (i, (constraints, _, req)) in ranges.iter().enumerate() {
            for c in constraints {
                range = range.narrowed(c).ok_or_else(|| {
                    let asks: Vec<String> = ranges[..=i]
                        .iter()
                        .map(|(_, raw, r)| format!("{} requires {raw:?}", r.describe()))
                        .collect();
                    DepsError::package(
                        &req.root_origin,
                        package,
                        format!(
                            "no version satisfies every requirement: {}",
                            asks.join("; ")
                        ),
                        "widen the version ranges in packages.yml so they overlap",
                    )
                })?;
            }
        }
        let hub_url = self.fetcher.hub_url().to_string();
        let index = self
            .fetcher
            .hub_index(package)
            .map_err(|why| {
                DepsError::package(
                    origin,
                    package,
                    why,
                    "check the network and the hub URL (DBT_PACKAGE_HUB_URL)",
                )
            })?
            .ok_or_else(|| {
                DepsError::package(
                    origin,
                    package,
                    format!("Package {package} was not found in the package index at {hub_url}"),
                    "check the org/name on hub.getdbt.com",
                )
            })?
            .clone();
        let prerelease = prerelease
            || ranges
                .iter()
                .any(|(cs, _, _)| cs.iter().any(Constraint::is_prerelease));
        let compatible: Vec<&str> = index
            .versions
            .iter()
            .filter(|(_, v)| dbt_compatible(&v.require_dbt_version))
            .map(|(version, _)| version.as_str())
            .collect();
        let Some(target) = range.highest(compatible.iter().copied(), prerelease) else {
            return Err(DepsError::package(
                origin,
                package,
                format!(
                    "Could not find a matching compatible version: requested range {range}; compatible versions: {}",
                    compatible.join(", ")
                ),
                "change `version:` to a range that includes a published version",
            ));
        };
        let latest = VersionRange::default()
            .highest(compatible.iter().copied(), prerelease)
            .unwrap_or(target)
            .to_string();
        let Some((_, info)) = index.versions.iter().find(|(v, _)| v == target) else {
            return Err(DepsError::package(
                origin,
                package,
                "the index lost the version it listed",
                "run mart deps again",
            ));
        };
        let label = Origin::new(format!("{package}@{target} (hub index)"), None);
        let wants = parse_json_entries(&info.packages, &label, self.env)?;
        Ok(Pinned {
            display: package.to_string(),
            version_name: format!("version {target}"),
            name: info.name.clone(),
            lock: LockSource::Hub {
                package: package.to_string(),
                version: target.to_string(),
            },
            origin: origin.clone(),
            dir: None,
            hub: Some((info.tarball.clone(), latest)),
            subdirectory: None,
            wants,
            wants_base: self.root_dir.to_path_buf(),
        })
    }
}

/// Whether the dbt version mart stands in for meets a hub version's `require_dbt_version`
/// (a requirement that cannot be read excludes nothing).
fn dbt_compatible(required: &[String]) -> bool {
    mart_project::dbt_allows(required.iter().map(String::as_str)).unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn require_dbt_version_is_checked_against_mart() {
        assert!(dbt_compatible(&[]));
        assert!(dbt_compatible(&[">=1.3.0".into(), "<2.0.0".into()]));
        assert!(!dbt_compatible(&[">=2.0.0".into()]));
    }
}

//! Model versions in the manifest: a version's unique id, alias and graph status, and
//! dbt's deprecation warnings for models past their `deprecation_date`.

use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic, SourceFile, Span};
use mart_graph::{NodeVersion, ResourceType, VersionStatus};
use mart_project::{compare_versions, ModelVersion, NodeFile};

use crate::locate::locate_ref;
use crate::manifest::Node;

/// What a model knows about its versions (set for versioned models and for models with
/// a `deprecation_date`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModelVersioning {
    pub version: Option<String>,
    pub latest_version: Option<String>,
    /// As written in the property file (a date or a timestamp).
    pub deprecation_date: Option<String>,
}

impl ModelVersioning {
    pub(crate) fn of(model: &NodeFile, unversioned_deprecation: Option<&String>) -> Option<Self> {
        match &model.version {
            Some(v) => Some(Self::of_version(v)),
            None => unversioned_deprecation.map(|date| ModelVersioning {
                version: None,
                latest_version: None,
                deprecation_date: Some(date.clone()),
            }),
        }
    }

    fn of_version(v: &ModelVersion) -> Self {
        ModelVersioning {
            version: Some(v.v.clone()),
            latest_version: Some(v.latest.clone()),
            deprecation_date: v.deprecation_date.clone(),
        }
    }

    /// Where the version stands against the latest one, for the `version:` selector.
    pub(crate) fn graph_version(&self) -> Option<NodeVersion> {
        let (version, latest) = (self.version.as_ref()?, self.latest_version.as_ref()?);
        let status = match compare_versions(version, latest) {
            std::cmp::Ordering::Equal => VersionStatus::Latest,
            std::cmp::Ordering::Greater => VersionStatus::Prerelease,
            std::cmp::Ordering::Less => VersionStatus::Old,
        };
        Some(NodeVersion {
            version: version.clone(),
            status,
        })
    }

    /// Whether the deprecation date is before `today` (`YYYY-MM-DD`). dbt compares the
    /// moment; a date-only value means its midnight, so it has passed from that day on.
    fn is_past(&self, today: &str) -> bool {
        self.deprecation_date
            .as_deref()
            .and_then(|d| d.get(..10))
            .is_some_and(|day| day <= today)
    }
}

/// The unique id's name part: `<name>.v<version>` for a version, else the name.
pub(crate) fn id_name(model: &NodeFile) -> String {
    match &model.version {
        Some(v) => format!("{}.v{}", model.name, v.v),
        None => model.name.clone(),
    }
}

/// dbt's default alias of a version: `<name>_v<version>` with dots as underscores.
pub(crate) fn default_alias(name: &str, version: Option<&str>) -> String {
    match version {
        Some(v) => format!("{name}_v{}", v.replace('.', "_")),
        None => name.to_string(),
    }
}

/// dbt's warnings for deprecated models: each model past its deprecation date, and each
/// model that refs one (at the ref).
pub(crate) fn deprecation_warnings(nodes: &[Node], today: &str) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    for target in nodes {
        let Some(versioning) = target.versioning.as_deref() else {
            continue;
        };
        let Some(date) = versioning.deprecation_date.as_deref() else {
            continue;
        };
        if !versioning.is_past(today) {
            continue;
        }
        let shown = match &versioning.version {
            Some(v) => format!("{}.v{v}", target.name),
            None => target.name.clone(),
        };
        let at = |d: Diagnostic| match &target.file {
            Some(file) => d.with_path(&file.path),
            None => d,
        };
        warnings.push(at(Diagnostic::warning(
            Code::Deprecated,
            format!("model {shown} has passed its deprecation date of {date}"),
        )
        .with_help("disable or remove the model")));
        for child in nodes
            .iter()
            .filter(|n| n.resource_type == ResourceType::Model && n.depends_on.contains(&target.id))
        {
            let Some(file) = &child.file else { continue };
            let newer = match (&versioning.version, &versioning.latest_version) {
                (Some(v), Some(latest)) if v != latest => format!(
                    "migrate to the latest version: {{{{ ref('{}', '{}', v='{latest}') }}}}",
                    target.package, target.name
                ),
                _ => "stop referring to it".to_string(),
            };
            let version = versioning.version.as_deref();
            let d = Diagnostic::warning(
                Code::Deprecated,
                format!(
                    "'{}' refs {shown}, which was deprecated on {date}",
                    child.name
                ),
            )
            .with_help(newer);
            warnings.push(located_ref(d, file, &target.name, version));
        }
    }
    warnings
}

fn located_ref(
    d: Diagnostic,
    file: &Arc<SourceFile>,
    name: &str,
    version: Option<&str>,
) -> Diagnostic {
    match locate_ref(&file.text, name, version) {
        Some(range) => d.with_span(Span::new(file.clone(), range)),
        None => d.with_path(&file.path),
    }
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub(crate) fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versioning(version: &str, latest: &str, date: Option<&str>) -> ModelVersioning {
        ModelVersioning {
            version: Some(version.into()),
            latest_version: Some(latest.into()),
            deprecation_date: date.map(str::to_string),
        }
    }

    #[test]
    fn versions_stand_against_the_latest() {
        let status = |v, l| versioning(v, l, None).graph_version().map(|g| g.status);
        assert_eq!(status("2", "2"), Some(VersionStatus::Latest));
        assert_eq!(status("3", "2"), Some(VersionStatus::Prerelease));
        assert_eq!(status("1", "2"), Some(VersionStatus::Old));
        assert_eq!(status("9", "10"), Some(VersionStatus::Old));
    }

    #[test]
    fn deprecation_dates_pass_on_their_day() {
        let v = versioning("1", "2", Some("2024-06-01"));
        assert!(v.is_past("2024-06-01"));
        assert!(v.is_past("2025-01-01"));
        assert!(!v.is_past("2024-05-31"));
        assert!(!versioning("1", "2", None).is_past("2999-01-01"));
        assert_eq!(default_alias("m", Some("1.5")), "m_v1_5");
        assert_eq!(default_alias("m", None), "m");
    }
}

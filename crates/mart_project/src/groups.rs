//! `groups:` of property files: named owners that models (and other nodes) join with the
//! `group:` config; a private model may be ref'd only from its own group.

use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic, SourceFile};
use serde::Deserialize;

use crate::yaml;

#[derive(Debug, Deserialize)]
pub(crate) struct RawGroup {
    name: String,
    #[serde(default)]
    owner: Option<serde_yaml::Mapping>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    config: serde_yaml::Mapping,
}

/// One group as declared.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Group {
    pub name: String,
    /// `owner:` (dbt requires `name` or `email`; other keys are kept).
    pub owner: serde_json::Map<String, serde_json::Value>,
    pub description: Option<String>,
    /// `config: {meta: ...}`.
    pub meta: serde_json::Value,
    #[serde(with = "mart_diagnostics::shared_files")]
    pub file: Arc<SourceFile>,
}

pub(crate) fn parse_groups(
    file: &Arc<SourceFile>,
    raw: Vec<RawGroup>,
) -> Result<Vec<Group>, Diagnostic> {
    raw.into_iter()
        .map(|g| {
            let owner = match g
                .owner
                .map(|o| yaml::to_json(serde_yaml::Value::Mapping(o)))
            {
                Some(serde_json::Value::Object(owner))
                    if owner.get("name").is_some_and(|v| !v.is_null())
                        || owner.get("email").is_some_and(|v| !v.is_null()) =>
                {
                    owner
                }
                _ => {
                    return Err(Diagnostic::error(
                        Code::PropertyFile,
                        format!("group '{}' has no owner with a name or an email", g.name),
                    )
                    .with_span(yaml::entry_span(file, &g.name))
                    .with_help("add `owner: {name: ..., email: ...}` to the group"))
                }
            };
            let config = yaml::to_json(serde_yaml::Value::Mapping(g.config));
            Ok(Group {
                meta: config
                    .get("meta")
                    .cloned()
                    .unwrap_or_else(|| serde_json::json!({})),
                name: g.name,
                owner,
                description: g.description,
                file: file.clone(),
            })
        })
        .collect()
}

//! The node types of the graph: ids, resource types and the node record itself.

use std::fmt;
use std::str::FromStr;

/// dbt's `unique_id` of a node: `model.<package>.<name>`, `seed.<package>.<name>`,
/// `snapshot.<package>.<name>`, `source.<package>.<source_name>.<table_name>`,
/// `test.<package>.<name>`.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct NodeId(String);

impl NodeId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// `<resource_type>.<package>.<name>` for every kind but sources.
    pub fn for_node(resource_type: ResourceType, package: &str, name: &str) -> Self {
        Self(format!("{}.{package}.{name}", resource_type.as_str()))
    }

    /// `exposure.<package>.<name>`.
    pub fn exposure(package: &str, name: &str) -> Self {
        Self::for_node(ResourceType::Exposure, package, name)
    }

    /// `source.<package>.<source_name>.<table_name>`.
    pub fn source(package: &str, source_name: &str, table_name: &str) -> Self {
        Self(format!("source.{package}.{source_name}.{table_name}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for NodeId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for NodeId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl From<String> for NodeId {
    fn from(s: String) -> Self {
        Self(s)
    }
}

/// The kind of a node, spelled as dbt spells it (`resource_type:` selector, unique ids).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum ResourceType {
    Model,
    Seed,
    Snapshot,
    Source,
    Test,
    Analysis,
    Operation,
    /// dbt's unit tests (`unit_tests:` in property files): a model run on given rows.
    UnitTest,
    Exposure,
    /// dbt's semantic layer (`semantic_models:`, `metrics:`, `saved_queries:`): parsed
    /// and written to the artifacts, never executed.
    SemanticModel,
    Metric,
    SavedQuery,
}

impl ResourceType {
    pub const ALL: [ResourceType; 12] = [
        ResourceType::Model,
        ResourceType::Seed,
        ResourceType::Snapshot,
        ResourceType::Source,
        ResourceType::Test,
        ResourceType::Analysis,
        ResourceType::Operation,
        ResourceType::UnitTest,
        ResourceType::Exposure,
        ResourceType::SemanticModel,
        ResourceType::Metric,
        ResourceType::SavedQuery,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Model => "model",
            ResourceType::Seed => "seed",
            ResourceType::Snapshot => "snapshot",
            ResourceType::Source => "source",
            ResourceType::Test => "test",
            ResourceType::Analysis => "analysis",
            ResourceType::Operation => "operation",
            ResourceType::UnitTest => "unit_test",
            ResourceType::Exposure => "exposure",
            ResourceType::SemanticModel => "semantic_model",
            ResourceType::Metric => "metric",
            ResourceType::SavedQuery => "saved_query",
        }
    }

    /// Sources, exposures and the semantic layer are in the graph only: nothing is built
    /// for them, and the manifest keeps them apart from its nodes.
    pub fn is_graph_only(self) -> bool {
        matches!(
            self,
            ResourceType::Source
                | ResourceType::Exposure
                | ResourceType::SemanticModel
                | ResourceType::Metric
                | ResourceType::SavedQuery
        )
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// "model, seed, snapshot, source, test, analysis, operation, unit_test, exposure, ...".
    pub(crate) fn names() -> String {
        Self::ALL.map(ResourceType::as_str).join(", ")
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resource type name that mart does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown resource type '{0}'; resource types are: {names}", names = ResourceType::names())]
pub struct UnknownResourceType(pub String);

impl FromStr for ResourceType {
    type Err = UnknownResourceType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownResourceType(s.to_owned()))
    }
}

/// One node of the project graph, with what selection needs to know about it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GraphNode {
    pub id: NodeId,
    /// Model name, seed name, snapshot name, test name, or a source's table name.
    pub name: String,
    pub resource_type: ResourceType,
    pub package: String,
    /// Relative to the project root, forward slashes: `models/dim/dim_user.sql`.
    pub original_file_path: String,
    /// `["mart_example", "dim", "dim_user"]`; sources: `[package, source_name, table]`.
    pub fqn: Vec<String>,
    pub tags: Vec<String>,
    /// `config.materialized`.
    pub materialized: Option<String>,
    /// The source's name, for sources.
    pub source_name: Option<String>,
    /// Flat config values as strings, for `config.<key>:<value>` selectors.
    pub config: FlatConfig,
    /// Parents; every one must be a node of the same graph.
    pub depends_on: Vec<NodeId>,
    /// Tests: `generic` or `singular` (the `test_type:` selector).
    pub test_type: Option<String>,
    /// Generic tests: the test's name without namespace (`unique`, `not_null`), for the
    /// `test_name:` selector.
    #[serde(default)]
    pub test_name: Option<String>,
    /// A version of a versioned model (the `version:` selector, `m.v2` names).
    #[serde(default)]
    pub version: Option<NodeVersion>,
}

/// Which version of its model a node is.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NodeVersion {
    /// As written (`2`, `1.5`, `beta`).
    pub version: String,
    pub status: VersionStatus,
}

/// Where a version stands against its model's `latest_version`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum VersionStatus {
    Latest,
    /// Newer than the latest version.
    Prerelease,
    /// Older than the latest version.
    Old,
}

/// Scalar config values as strings, packed into one string (`<len>:<key><len>:<value>`
/// for each entry): the graph of a large project is decoded at every start, and config
/// entries were most of its strings.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FlatConfig(String);

impl FlatConfig {
    /// The entries in the order given; for a repeated key the first one counts.
    pub fn new<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut packed = String::new();
        for (key, value) in entries {
            for part in [key, value] {
                packed.push_str(&part.len().to_string());
                packed.push(':');
                packed.push_str(part);
            }
        }
        FlatConfig(packed)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let mut rest = self.0.as_str();
        let mut part = move || {
            let (len, tail) = rest.split_once(':')?;
            let len: usize = len.parse().ok()?;
            let text = tail.get(..len)?;
            rest = &tail[len..];
            Some(text)
        };
        std::iter::from_fn(move || Some((part()?, part()?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_type_round_trips() {
        for t in ResourceType::ALL {
            assert_eq!(t.as_str().parse::<ResourceType>(), Ok(t));
        }
        insta::assert_snapshot!(
            "modle".parse::<ResourceType>().unwrap_err(),
            @"unknown resource type 'modle'; resource types are: model, seed, snapshot, source, test, analysis, operation, unit_test, exposure, semantic_model, metric, saved_query"
        );
    }

    #[test]
    fn flat_config_keeps_any_text() {
        let config = FlatConfig::new([
            ("materialized", "view"),
            ("where", "a:b 12:x"),
            ("", ""),
            ("materialized", "table"),
        ]);
        assert_eq!(config.get("materialized"), Some("view"));
        assert_eq!(config.get("where"), Some("a:b 12:x"));
        assert_eq!(config.get(""), Some(""));
        assert_eq!(config.get("schema"), None);
        assert_eq!(config.iter().count(), 4);
        assert_eq!(FlatConfig::default().iter().count(), 0);
    }

    #[test]
    fn node_id_constructors() {
        assert_eq!(
            NodeId::for_node(ResourceType::Model, "p", "a").as_str(),
            "model.p.a"
        );
        assert_eq!(
            NodeId::source("p", "raw", "log").to_string(),
            "source.p.raw.log"
        );
    }
}

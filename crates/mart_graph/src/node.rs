//! The node types of the graph: ids, resource types and the node record itself.

use std::collections::BTreeMap;
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
}

impl ResourceType {
    pub const ALL: [ResourceType; 7] = [
        ResourceType::Model,
        ResourceType::Seed,
        ResourceType::Snapshot,
        ResourceType::Source,
        ResourceType::Test,
        ResourceType::Analysis,
        ResourceType::Operation,
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
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// "model, seed, snapshot, source, test, analysis, operation".
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
    pub config: BTreeMap<String, String>,
    /// Parents; every one must be a node of the same graph.
    pub depends_on: Vec<NodeId>,
    /// Tests: `generic` or `singular` (the `test_type:` selector).
    pub test_type: Option<String>,
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
            @"unknown resource type 'modle'; resource types are: model, seed, snapshot, source, test, analysis, operation"
        );
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

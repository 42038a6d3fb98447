//! Node builders for the tests.

use std::collections::BTreeMap;

use crate::node::{FlatConfig, GraphNode, NodeId, ResourceType};

/// A node from its unique id alone: type, package and name come from the id.
pub(crate) fn node(id: &str, deps: &[&str]) -> GraphNode {
    let parts: Vec<&str> = id.split('.').collect();
    let resource_type: ResourceType = parts[0].parse().unwrap();
    let package = parts[1].to_owned();
    let name = parts[parts.len() - 1].to_owned();
    GraphNode {
        id: NodeId::new(id),
        name: name.clone(),
        resource_type,
        package: package.clone(),
        original_file_path: format!("models/{name}.sql"),
        fqn: vec![package, name],
        tags: Vec::new(),
        materialized: None,
        source_name: (resource_type == ResourceType::Source).then(|| parts[2].to_owned()),
        config: FlatConfig::default(),
        depends_on: deps.iter().map(|d| NodeId::new(*d)).collect(),
        test_type: None,
        test_name: None,
        version: None,
    }
}

const PKG: &str = "mart_example";

struct Spec<'a> {
    kind: ResourceType,
    name: &'a str,
    path: String,
    materialized: Option<&'a str>,
    tags: &'a [&'a str],
    config: &'a [(&'a str, &'a str)],
    deps: &'a [&'a str],
}

fn build(spec: Spec<'_>) -> GraphNode {
    let dirs: Vec<String> = match spec.kind {
        // Generic tests live beside the models they test: models/dim/_dim.yml -> [dim].
        ResourceType::Model | ResourceType::Test => {
            let mut parts: Vec<&str> = spec.path.split('/').collect();
            parts.pop();
            parts.iter().skip(1).map(|s| s.to_string()).collect()
        }
        _ => Vec::new(),
    };
    let mut fqn = vec![PKG.to_owned()];
    fqn.extend(dirs);
    fqn.push(spec.name.to_owned());
    let mut config: BTreeMap<String, String> = spec
        .config
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if let Some(m) = spec.materialized {
        config.insert("materialized".into(), m.into());
    }
    let config = FlatConfig::new(config.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    GraphNode {
        id: NodeId::for_node(spec.kind, PKG, spec.name),
        name: spec.name.to_owned(),
        resource_type: spec.kind,
        package: PKG.to_owned(),
        original_file_path: spec.path.clone(),
        fqn,
        tags: spec.tags.iter().map(|t| t.to_string()).collect(),
        materialized: spec.materialized.map(str::to_owned),
        source_name: None,
        config,
        depends_on: spec.deps.iter().map(|d| NodeId::new(*d)).collect(),
        test_type: None,
        test_name: None,
        version: None,
    }
}

/// The example project's graph (17 nodes):
///
/// ```text
/// seed user_event    -> src_user_event (ephemeral, tag src) -> fact_user_event (incremental)
/// seed user_variant  -> src_user_variant  -> dim_user_variant  -> dim_user (table)
/// seed user_metadata -> src_user_metadata -> dim_user_metadata -> dim_user
/// seed user_metadata -> snapshot user_metadata_snapshot
/// dim_user, fact_user_event -> analytics_variant_user_daily (view, tag daily)
/// dim_user -> test unique_dim_user_user_id
/// fact_user_event, dim_user -> test relationships_fact_user_event_user_id__dim_user
/// source raw.server_log -> wv_server_log_base (incremental, tags daily fan)
///                       -> test not_null_wv_server_log_base_date_id
/// ```
pub(crate) fn example_project() -> Vec<GraphNode> {
    use ResourceType::*;
    let seed = |name: &'static str| Spec {
        kind: Seed,
        name,
        path: format!("seeds/{name}.csv"),
        materialized: Some("seed"),
        tags: &[],
        config: &[],
        deps: &[],
    };
    let model = |name: &'static str,
                 dir: &str,
                 materialized: &'static str,
                 tags: &'static [&'static str],
                 deps: &'static [&'static str]| Spec {
        kind: Model,
        name,
        path: format!("models/{dir}/{name}.sql"),
        materialized: Some(materialized),
        tags,
        config: &[],
        deps,
    };
    let test = |name: &'static str, path: &str, deps: &'static [&'static str]| Spec {
        kind: Test,
        name,
        path: path.to_owned(),
        materialized: Some("test"),
        tags: &[],
        config: &[("severity", "error")],
        deps,
    };
    let mut nodes: Vec<GraphNode> = vec![
        build(seed("user_event")),
        build(seed("user_variant")),
        build(seed("user_metadata")),
        build(model(
            "src_user_event",
            "src",
            "ephemeral",
            &["src"],
            &["seed.mart_example.user_event"],
        )),
        build(model(
            "src_user_variant",
            "src",
            "ephemeral",
            &[],
            &["seed.mart_example.user_variant"],
        )),
        build(model(
            "src_user_metadata",
            "src",
            "ephemeral",
            &[],
            &["seed.mart_example.user_metadata"],
        )),
        build(model(
            "dim_user_variant",
            "dim",
            "table",
            &[],
            &["model.mart_example.src_user_variant"],
        )),
        build(model(
            "dim_user_metadata",
            "dim",
            "table",
            &[],
            &["model.mart_example.src_user_metadata"],
        )),
        build(model(
            "dim_user",
            "dim",
            "table",
            &[],
            &[
                "model.mart_example.dim_user_metadata",
                "model.mart_example.dim_user_variant",
            ],
        )),
        build(model(
            "fact_user_event",
            "fact",
            "incremental",
            &[],
            &["model.mart_example.src_user_event"],
        )),
        build(model(
            "analytics_variant_user_daily",
            "mart",
            "view",
            &["daily"],
            &[
                "model.mart_example.dim_user",
                "model.mart_example.fact_user_event",
            ],
        )),
        build(Spec {
            config: &[("incremental_strategy", "delete+insert")],
            ..model(
                "wv_server_log_base",
                "fan",
                "incremental",
                &["daily", "fan"],
                &["source.mart_example.raw.server_log"],
            )
        }),
        build(Spec {
            kind: Snapshot,
            name: "user_metadata_snapshot",
            path: "snapshots/user_metadata_snapshot.sql".into(),
            materialized: Some("snapshot"),
            tags: &[],
            config: &[("strategy", "timestamp")],
            deps: &["seed.mart_example.user_metadata"],
        }),
        build(test(
            "unique_dim_user_user_id",
            "models/dim/_dim.yml",
            &["model.mart_example.dim_user"],
        )),
        build(test(
            "relationships_fact_user_event_user_id__dim_user",
            "models/fact/_fact.yml",
            &[
                "model.mart_example.fact_user_event",
                "model.mart_example.dim_user",
            ],
        )),
        build(test(
            "not_null_wv_server_log_base_date_id",
            "models/fan/_fan.yml",
            &["model.mart_example.wv_server_log_base"],
        )),
    ];
    nodes.push(GraphNode {
        id: NodeId::source(PKG, "raw", "server_log"),
        name: "server_log".into(),
        resource_type: Source,
        package: PKG.into(),
        original_file_path: "models/fan/_sources.yml".into(),
        fqn: vec![PKG.into(), "raw".into(), "server_log".into()],
        tags: Vec::new(),
        materialized: None,
        source_name: Some("raw".into()),
        config: FlatConfig::default(),
        depends_on: Vec::new(),
        test_type: None,
        test_name: None,
        version: None,
    });
    nodes
}

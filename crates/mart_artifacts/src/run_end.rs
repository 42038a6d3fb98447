//! What `on-run-end` hooks see besides dbt's usual context: `results` (one object per
//! node result, with the node itself), `schemas` and `database_schemas` (where the nodes
//! that succeeded built their relations).

use std::collections::BTreeSet;

use mart_compiler::Manifest;
use mart_graph::ResourceType;
use mart_runner::{NodeResult, NodeStatus};
use serde_json::{Map, Value};

use crate::manifest::manifest_node;
use crate::run_results::run_result;

/// The variables of the on-run-end render for a run's `results`.
pub fn run_end_context(manifest: &Manifest, results: &[NodeResult]) -> Map<String, Value> {
    let objects: Vec<Value> = results
        .iter()
        .map(|r| {
            let mut object = match serde_json::to_value(run_result(manifest, r)) {
                Ok(Value::Object(map)) => map,
                _ => Map::new(),
            };
            let node = manifest
                .node(&r.id)
                .map(|n| manifest_node(manifest, n, r.compiled_sql.as_ref(), None))
                .and_then(|n| serde_json::to_value(n).ok())
                .unwrap_or(Value::Null);
            object.insert("node".into(), node);
            Value::Object(object)
        })
        .collect();
    // dbt: the relations of models, seeds and snapshots that did not fail or skip.
    let built: BTreeSet<(Option<String>, String)> = results
        .iter()
        .filter(|r| {
            !matches!(
                r.status,
                NodeStatus::Error | NodeStatus::Fail | NodeStatus::Skipped
            )
        })
        .filter_map(|r| manifest.node(&r.id))
        .filter(|n| {
            matches!(
                n.resource_type,
                ResourceType::Model | ResourceType::Seed | ResourceType::Snapshot
            )
        })
        .map(|n| (n.relation.database.clone(), n.relation.schema.clone()))
        .collect();
    let schemas: BTreeSet<&String> = built.iter().map(|(_, s)| s).collect();
    Map::from_iter([
        ("results".to_string(), Value::Array(objects)),
        ("schemas".to_string(), serde_json::json!(schemas)),
        (
            "database_schemas".to_string(),
            Value::Array(
                built
                    .iter()
                    .map(|(d, s)| serde_json::json!([d, s]))
                    .collect(),
            ),
        ),
    ])
}

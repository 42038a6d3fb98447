//! The semantic layer in the artifacts: the manifest's `semantic_models`, `metrics` and
//! `saved_queries` maps in dbt's manifest v12 shape, and `semantic_manifest.json`, which
//! holds the same entries with only the fields dbt_semantic_interfaces reads.

use std::time::UNIX_EPOCH;

use mart_compiler::{Manifest, SemanticNode};
use mart_graph::ResourceType;
use serde_json::{json, Map, Value};

use crate::Invocation;

/// `<type>.<package>.<name>` -> the entry, for one of the three types; `created_at` is
/// the command's start, none for the Jinja `graph`.
pub(crate) fn semantic_map(
    manifest: &Manifest,
    resource_type: ResourceType,
    invocation: Option<&Invocation>,
) -> Map<String, Value> {
    let created_at = invocation
        .and_then(|i| i.started.duration_since(UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_secs_f64());
    manifest
        .semantic
        .of_type(resource_type)
        .map(|n| (n.id.to_string(), manifest_entry(n, created_at)))
        .collect()
}

fn manifest_entry(node: &SemanticNode, created_at: f64) -> Value {
    let group = node.config.get("group").cloned().unwrap_or(Value::Null);
    let meta = node
        .config
        .get("meta")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut config = Map::new();
    config.insert("enabled".into(), json!(true));
    config.insert("group".into(), group.clone());
    config.insert("meta".into(), meta.clone());
    let mut entry = Map::new();
    entry.insert("name".into(), json!(node.name));
    entry.insert("resource_type".into(), json!(node.resource_type.as_str()));
    entry.insert("package_name".into(), json!(node.package));
    entry.insert("path".into(), json!(node.path));
    entry.insert("original_file_path".into(), json!(node.original_file_path));
    entry.insert("unique_id".into(), json!(node.id.as_str()));
    entry.insert("fqn".into(), json!(node.fqn));
    entry.insert("metadata".into(), Value::Null);
    entry.insert("group".into(), group);
    entry.insert("created_at".into(), json!(created_at));
    entry.insert("unrendered_config".into(), json!(node.config));
    let mut nodes: Vec<&str> = node.depends_on.iter().map(|id| id.as_str()).collect();
    if node.resource_type != ResourceType::Metric {
        nodes.sort_unstable();
    }
    entry.insert("depends_on".into(), json!({"macros": [], "nodes": nodes}));
    let refs: Vec<Value> = node
        .refs
        .iter()
        .map(|r| json!({"name": r.name, "package": r.package, "version": null}))
        .collect();
    entry.insert("refs".into(), Value::Array(refs));
    match node.resource_type {
        ResourceType::Metric => {
            entry.insert("tags".into(), json!(node.tags));
            entry.insert("sources".into(), json!([]));
            entry.insert("metrics".into(), json!([]));
        }
        ResourceType::SavedQuery => {
            entry.insert("tags".into(), json!(node.tags));
            let setting = |key: &str| node.config.get(key).cloned().unwrap_or(Value::Null);
            config.insert("export_as".into(), setting("export_as"));
            config.insert("schema".into(), setting("schema"));
            config.insert(
                "cache".into(),
                json!({"enabled": node.config.get("cache").and_then(|c| c.get("enabled")).and_then(Value::as_bool).unwrap_or(false)}),
            );
        }
        _ => {}
    }
    entry.insert("config".into(), Value::Object(config));
    entry.extend(node.body.clone());
    Value::Object(entry)
}

/// The fields of each object that dbt_semantic_interfaces (0.9) keeps, by where it sits;
/// absent ones are null.
const SEMANTIC_MODEL: &[&str] = &[
    "name",
    "defaults",
    "description",
    "node_relation",
    "primary_entity",
    "entities",
    "measures",
    "dimensions",
    "label",
    "metadata",
    "config",
];
const ENTITY: &[&str] = &[
    "name",
    "description",
    "type",
    "role",
    "expr",
    "metadata",
    "label",
    "config",
];
const MEASURE: &[&str] = &[
    "name",
    "agg",
    "description",
    "create_metric",
    "expr",
    "agg_params",
    "metadata",
    "non_additive_dimension",
    "agg_time_dimension",
    "label",
    "config",
];
const DIMENSION: &[&str] = &[
    "name",
    "description",
    "type",
    "is_partition",
    "type_params",
    "expr",
    "metadata",
    "label",
    "config",
];
const METRIC: &[&str] = &[
    "name",
    "description",
    "type",
    "type_params",
    "filter",
    "metadata",
    "label",
    "config",
    "time_granularity",
];
const TYPE_PARAMS: &[&str] = &[
    "measure",
    "numerator",
    "denominator",
    "expr",
    "window",
    "grain_to_date",
    "metrics",
    "conversion_type_params",
    "cumulative_type_params",
    "input_measures",
];
const SAVED_QUERY: &[&str] = &[
    "name",
    "query_params",
    "description",
    "metadata",
    "label",
    "exports",
    "tags",
];
const EXPORT_CONFIG: &[&str] = &["export_as", "schema_name", "alias"];

fn keep(value: &Value, fields: &[&str]) -> Map<String, Value> {
    fields
        .iter()
        .map(|f| (f.to_string(), value.get(*f).cloned().unwrap_or(Value::Null)))
        .collect()
}

fn keep_each(value: &Value, key: &str, fields: &[&str]) -> Value {
    let items = value
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    Value::Array(
        items
            .iter()
            .map(|v| Value::Object(keep(v, fields)))
            .collect(),
    )
}

/// An element's config as the semantic manifest has it: its meta only.
fn meta_config(entry: &Value) -> Value {
    json!({"meta": entry.get("config").and_then(|c| c.get("meta")).cloned().unwrap_or_else(|| json!({}))})
}

/// `semantic_manifest.json` as dbt writes it.
pub fn build_semantic_manifest(manifest: &Manifest) -> Value {
    let entries =
        |t: ResourceType| -> Vec<Value> { semantic_map(manifest, t, None).into_values().collect() };
    let semantic_models: Vec<Value> = entries(ResourceType::SemanticModel)
        .iter()
        .map(|m| {
            let mut out = keep(m, SEMANTIC_MODEL);
            out.insert("entities".into(), keep_each(m, "entities", ENTITY));
            out.insert("measures".into(), keep_each(m, "measures", MEASURE));
            out.insert("dimensions".into(), keep_each(m, "dimensions", DIMENSION));
            out.insert("config".into(), meta_config(m));
            Value::Object(out)
        })
        .collect();
    let metrics: Vec<Value> = entries(ResourceType::Metric)
        .iter()
        .map(|m| {
            let mut out = keep(m, METRIC);
            let mut params = keep(&m["type_params"], TYPE_PARAMS);
            // The manifest's cumulative_type_params name no metric here, as dbt's.
            if let Some(Value::Object(c)) = params.get_mut("cumulative_type_params") {
                c.remove("metric");
            }
            out.insert("type_params".into(), Value::Object(params));
            out.insert("config".into(), meta_config(m));
            Value::Object(out)
        })
        .collect();
    let saved_queries: Vec<Value> = entries(ResourceType::SavedQuery)
        .iter()
        .map(|q| {
            let mut out = keep(q, SAVED_QUERY);
            let exports = q["exports"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            out.insert(
                "exports".into(),
                exports
                    .iter()
                    .map(
                        |x| json!({"name": x["name"], "config": keep(&x["config"], EXPORT_CONFIG)}),
                    )
                    .collect(),
            );
            Value::Object(out)
        })
        .collect();
    json!({
        "semantic_models": semantic_models,
        "metrics": metrics,
        "project_configuration": {
            "time_spine_table_configurations": manifest.semantic.legacy_time_spines,
            "metadata": null,
            "dsi_package_version": {"major_version": "0", "minor_version": "9", "patch_version": "0"},
            "time_spines": manifest.semantic.time_spines,
        },
        "saved_queries": saved_queries,
    })
}

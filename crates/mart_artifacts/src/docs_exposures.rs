//! The manifest's `docs` and `exposures` maps, in dbt's manifest v12 shape.

use std::time::UNIX_EPOCH;

use mart_compiler::{ExposureNode, Manifest};
use serde_json::{json, Map, Value};

use crate::Invocation;

/// `doc.<package>.<name>` -> the block, as dbt writes it.
pub(crate) fn docs_map(manifest: &Manifest) -> Map<String, Value> {
    // dbt's own overview block, which the root project's `__overview__` replaces on the
    // docs site's front page.
    let builtin = (
        "doc.dbt.__overview__".to_string(),
        json!({
            "name": "__overview__",
            "resource_type": "doc",
            "package_name": "dbt",
            "path": "overview.md",
            "original_file_path": "docs/overview.md",
            "unique_id": "doc.dbt.__overview__",
            "block_contents": mart_project::DEFAULT_OVERVIEW,
        }),
    );
    let blocks = manifest.docs.iter().map(|block| {
        let id = block.unique_id();
        let doc = json!({
            "name": block.name,
            "resource_type": "doc",
            "package_name": block.package,
            "path": block.path,
            "original_file_path": block.original_file_path,
            "unique_id": id,
            "block_contents": block.contents,
        });
        (id, doc)
    });
    std::iter::once(builtin).chain(blocks).collect()
}

/// `exposure.<package>.<name>` -> the exposure, as dbt writes it; `created_at` is the
/// command's start (seconds since the epoch), none for the Jinja `graph`.
pub(crate) fn exposures_map(
    manifest: &Manifest,
    invocation: Option<&Invocation>,
) -> Map<String, Value> {
    let created_at = invocation
        .and_then(|i| i.started.duration_since(UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_secs_f64());
    manifest
        .exposures
        .values()
        .map(|e| (e.id.to_string(), exposure_value(e, created_at)))
        .collect()
}

fn exposure_value(node: &ExposureNode, created_at: f64) -> Value {
    let e = &node.exposure;
    let mut nodes: Vec<String> = node.depends_on.iter().map(|id| id.to_string()).collect();
    nodes.sort();
    let mut config = Map::new();
    config.insert("enabled".into(), Value::Bool(true));
    config.insert("tags".into(), json!(e.tags));
    config.insert("meta".into(), e.meta.clone());
    json!({
        "name": e.name,
        "resource_type": "exposure",
        "package_name": node.package,
        "path": node.path,
        "original_file_path": node.original_file_path,
        "unique_id": node.id.as_str(),
        "fqn": node.fqn,
        "type": e.exposure_type,
        "owner": {"email": e.owner.email, "name": e.owner.name},
        "description": e.description,
        "label": e.label,
        "maturity": e.maturity,
        "meta": e.meta,
        "tags": e.tags,
        "config": config,
        "unrendered_config": e.config,
        "url": e.url,
        "depends_on": {"macros": [], "nodes": nodes},
        "refs": node.refs.iter().map(|r| json!({
            "name": r.name, "package": r.package, "version": null,
        })).collect::<Vec<_>>(),
        "sources": node.source_calls.iter().map(|s| json!([s.source, s.table])).collect::<Vec<_>>(),
        "metrics": [],
        "created_at": created_at,
    })
}

//! `mart ls`: the selected nodes, printed as dbt prints them (Airflow tooling reads this).

use mart_compiler::Manifest;
use mart_diagnostics::{Code, Diagnostic, Diagnostics};
use mart_graph::{NodeId, ResourceType};

use crate::args::{GlobalArgs, LsArgs, LsOutput};
use crate::session::Session;
use crate::Outcome;

/// The keys `--output json` prints when no --output-keys are given.
const DEFAULT_KEYS: [&str; 9] = [
    "name",
    "resource_type",
    "package_name",
    "original_file_path",
    "unique_id",
    "alias",
    "config",
    "tags",
    "depends_on",
];

pub fn run(global: &GlobalArgs, args: &LsArgs) -> Result<Outcome, Diagnostics> {
    let session = Session::load(global)?;
    let types = args
        .resource_type
        .iter()
        .map(|t| {
            t.parse::<ResourceType>().map_err(|_| {
                Diagnostic::error(Code::Usage, format!("unknown resource type '{t}'")).with_help(
                    "use model, seed, snapshot, source, test, unit_test, analysis, exposure, semantic_model, metric or saved_query",
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // As dbt lists them: the tests of the selected nodes come along.
    let selected = session.select_with(&args.selection, Some(args.indirect_selection.mode()))?;
    let manifest = &session.manifest;
    let mut lines: Vec<String> = selected
        .iter()
        .filter_map(|id| manifest.dag.node(id))
        .filter(|n| types.is_empty() || types.contains(&n.resource_type))
        .map(|n| match args.output {
            LsOutput::Selector => match n.resource_type {
                ResourceType::Source => format!("source:{}", n.fqn.join(".")),
                ResourceType::UnitTest => format!("unit_test:{}.{}", n.package, n.name),
                // dbt: these are selected by `<type>:<package>.<name>`.
                ResourceType::Exposure
                | ResourceType::SemanticModel
                | ResourceType::Metric
                | ResourceType::SavedQuery => {
                    format!("{}:{}.{}", n.resource_type, n.package, n.name)
                }
                _ => n.fqn.join("."),
            },
            LsOutput::Name => match &n.source_name {
                Some(source) => format!("{source}.{}", n.name),
                None => n.name.clone(),
            },
            LsOutput::Path => n.original_file_path.clone(),
            LsOutput::Json => json_line(manifest, &n.id, &args.output_keys),
        })
        .collect();
    if args.output != LsOutput::Json {
        lines.sort();
    }
    for line in lines {
        session.printer.result(&line);
    }
    Ok(Outcome::Success)
}

fn json_line(manifest: &Manifest, id: &NodeId, keys: &[String]) -> String {
    let value = node_json(manifest, id);
    let keys: Vec<&str> = if keys.is_empty() {
        DEFAULT_KEYS.to_vec()
    } else {
        keys.iter().flat_map(|k| k.split_whitespace()).collect()
    };
    let object: serde_json::Map<String, serde_json::Value> = keys
        .iter()
        .filter_map(|k| value.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect();
    serde_json::Value::Object(object).to_string()
}

/// The fields of a node as dbt's manifest names them.
fn node_json(manifest: &Manifest, id: &NodeId) -> serde_json::Value {
    let dag_node = manifest.dag.node(id);
    let parents: Vec<&str> = dag_node
        .map(|n| n.depends_on.iter().map(NodeId::as_str).collect())
        .unwrap_or_default();
    if let Some(node) = manifest.node(id) {
        return serde_json::json!({
            "name": node.name,
            "resource_type": node.resource_type.as_str(),
            "package_name": node.package,
            "original_file_path": node.original_file_path,
            "path": node.original_file_path,
            "unique_id": node.id.as_str(),
            "alias": node.relation.identifier,
            "schema": node.relation.schema,
            "database": node.relation.database,
            "relation_name": node.relation.to_string(),
            "config": node.config.raw,
            "tags": node.config.tags,
            "fqn": node.fqn,
            "description": node.description,
            "depends_on": {"nodes": parents, "macros": []},
        });
    }
    if let Some(exposure) = manifest.exposures.get(id) {
        return serde_json::json!({
            "name": exposure.exposure.name,
            "resource_type": "exposure",
            "package_name": exposure.package,
            "original_file_path": exposure.original_file_path,
            "path": exposure.path,
            "unique_id": id.as_str(),
            "config": exposure.exposure.config,
            "tags": exposure.exposure.tags,
            "fqn": exposure.fqn,
            "description": exposure.exposure.description,
            "depends_on": {"nodes": parents, "macros": []},
        });
    }
    if let Some(node) = manifest.semantic.nodes.get(id) {
        return serde_json::json!({
            "name": node.name,
            "resource_type": node.resource_type.as_str(),
            "package_name": node.package,
            "original_file_path": node.original_file_path,
            "path": node.path,
            "unique_id": id.as_str(),
            "config": node.config,
            "tags": node.tags,
            "fqn": node.fqn,
            "description": node.body.get("description"),
            "label": node.body.get("label"),
            "depends_on": {"nodes": parents, "macros": []},
        });
    }
    match manifest.sources.get(id) {
        Some(source) => serde_json::json!({
            "name": source.table.name,
            "source_name": source.table.source_name,
            "resource_type": "source",
            "package_name": source.package(),
            "original_file_path": source.table.file.path.to_string_lossy(),
            "unique_id": id.as_str(),
            "identifier": source.table.identifier,
            "schema": source.relation.schema,
            "database": source.relation.database,
            "relation_name": source.relation.to_string(),
            "config": source.table.config,
            "tags": source.table.tags,
            "depends_on": {"nodes": [], "macros": []},
        }),
        None => serde_json::json!({"unique_id": id.as_str()}),
    }
}

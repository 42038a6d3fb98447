//! manifest.json in dbt's manifest v12 schema, built from mart's in-memory manifest.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use mart_compiler::{Manifest, Node};
use mart_graph::{NodeId, ResourceType};
use mart_project::Materialization;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::config_defaults::{fill_defaults, node_config_defaults, source_config_defaults};
use crate::Invocation;

pub const MANIFEST_SCHEMA: &str = "https://schemas.getdbt.com/dbt/manifest/v12.json";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ManifestV12 {
    pub metadata: ManifestMetadata,
    /// Each node already serialized: they are most of the document, serialized on every
    /// core (10,000 models make a manifest of about 40 MB).
    pub nodes: BTreeMap<String, Box<RawValue>>,
    pub sources: BTreeMap<String, ManifestSource>,
    pub macros: BTreeMap<String, ManifestMacro>,
    pub docs: Map<String, Value>,
    pub exposures: Map<String, Value>,
    pub metrics: Map<String, Value>,
    pub groups: Map<String, Value>,
    pub selectors: Map<String, Value>,
    pub disabled: Map<String, Value>,
    pub parent_map: BTreeMap<String, Vec<String>>,
    pub child_map: BTreeMap<String, Vec<String>>,
    pub group_map: Map<String, Value>,
    pub saved_queries: Map<String, Value>,
    pub semantic_models: Map<String, Value>,
    pub unit_tests: Map<String, Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ManifestMetadata {
    pub dbt_schema_version: String,
    pub dbt_version: String,
    pub generated_at: String,
    pub invocation_id: String,
    pub env: BTreeMap<String, String>,
    pub project_name: String,
    pub adapter_type: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Checksum {
    pub name: String,
    pub checksum: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DependsOn {
    pub macros: Vec<String>,
    /// Seeds have no node dependencies (and dbt's schema gives them no such field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<String>>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ref {
    pub name: String,
    pub package: Option<String>,
    /// dbt's `NodeVersion`: a number or a string.
    pub version: Option<Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub description: String,
    pub meta: Value,
    pub data_type: Option<String>,
    pub constraints: Vec<Value>,
    pub quote: Option<bool>,
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TestMetadata {
    pub name: String,
    pub kwargs: Map<String, Value>,
    pub namespace: Option<String>,
}

/// A model, seed, snapshot or test.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ManifestNode {
    pub database: Option<String>,
    pub schema: String,
    pub name: String,
    pub resource_type: String,
    pub package_name: String,
    pub path: String,
    pub original_file_path: String,
    pub unique_id: String,
    pub fqn: Vec<String>,
    pub alias: String,
    pub checksum: Checksum,
    pub config: Map<String, Value>,
    pub tags: Vec<String>,
    pub description: String,
    pub columns: BTreeMap<String, Column>,
    pub meta: Value,
    pub patch_path: Option<String>,
    pub unrendered_config: Map<String, Value>,
    pub relation_name: Option<String>,
    pub raw_code: String,
    pub depends_on: DependsOn,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refs: Option<Vec<Ref>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<[String; 2]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compiled_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compiled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compiled_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attached_node: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_metadata: Option<TestMetadata>,
    /// Every node but seeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<ManifestContract>,
    /// Models only: the model-level constraints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints: Option<Vec<Value>>,
    /// The node's group (a test's: its node's, as dbt gives it).
    #[serde(default)]
    pub group: Option<String>,
    /// Models only: access and versions.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelGovernance>,
}

/// A model's `access`, `version`, `latest_version` and `deprecation_date`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelGovernance {
    pub access: String,
    /// A number when the identifier is one (dbt's `NodeVersion`), else a string.
    pub version: Option<Value>,
    pub latest_version: Option<Value>,
    pub deprecation_date: Option<String>,
}

/// A version identifier as dbt writes it: `2`, `1.5`, or `"beta"`.
fn version_json(v: &str) -> Value {
    v.parse::<i64>()
        .map(Value::from)
        .or_else(|_| v.parse::<f64>().map(Value::from))
        .unwrap_or_else(|_| Value::from(v))
}

/// dbt's node `contract`: the config's, with a checksum of what it guarantees when enforced.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ManifestContract {
    pub enforced: bool,
    pub alias_types: bool,
    pub checksum: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ManifestSource {
    pub database: Option<String>,
    pub schema: String,
    pub name: String,
    pub resource_type: String,
    pub package_name: String,
    pub path: String,
    pub original_file_path: String,
    pub unique_id: String,
    pub fqn: Vec<String>,
    pub source_name: String,
    pub source_description: String,
    pub loader: String,
    pub identifier: String,
    pub loaded_at_field: Option<String>,
    pub description: String,
    pub columns: BTreeMap<String, Column>,
    pub meta: Value,
    pub source_meta: Map<String, Value>,
    pub tags: Vec<String>,
    pub config: Map<String, Value>,
    pub relation_name: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ManifestMacro {
    pub name: String,
    pub resource_type: String,
    pub package_name: String,
    pub path: String,
    pub original_file_path: String,
    pub unique_id: String,
    pub macro_sql: String,
    pub depends_on: DependsOn,
    pub description: String,
    pub meta: Map<String, Value>,
}

/// An entry for each of dbt's macros that mart implements natively, so that every id in a
/// node's `depends_on.macros` names a macro of the manifest.
fn native_macros() -> impl Iterator<Item = (String, ManifestMacro)> {
    mart_jinja::NATIVE_MACROS.iter().map(|name| {
        let package = mart_jinja::INTERNAL_PACKAGE;
        let id = format!("macro.{package}.{name}");
        let path = "<mart>/native".to_string();
        let m = ManifestMacro {
            name: name.to_string(),
            resource_type: "macro".into(),
            package_name: package.into(),
            path: path.clone(),
            original_file_path: path,
            unique_id: id.clone(),
            depends_on: DependsOn {
                macros: Vec::new(),
                nodes: None,
            },
            macro_sql: String::new(),
            description: format!("`{name}()`, built into mart"),
            meta: Map::new(),
        };
        (id, m)
    })
}

/// What a command compiled: the SQL of each node (dbt leaves compiled_code out for the
/// others), and the output column types the static analysis derived for them, which
/// become the `data_type` of declared columns that give none.
#[derive(Debug, Default)]
pub struct CompiledNodes {
    pub sql: BTreeMap<NodeId, String>,
    pub column_types: mart_compiler::ColumnTypes,
}

/// The manifest of `manifest` with what this command compiled.
pub fn build_manifest(
    manifest: &Manifest,
    env: &mart_jinja::JinjaEnv,
    compiled: &CompiledNodes,
    invocation: &Invocation,
) -> Result<ManifestV12, serde_json::Error> {
    let entries = node_entries(manifest);
    let mut document = manifest_without_nodes(manifest, env, invocation);
    document.nodes = node_json(manifest, &entries, compiled)?
        .into_iter()
        .zip(&entries)
        .map(|(json, n)| (n.id.to_string(), json))
        .collect();
    Ok(document)
}

/// The nodes of manifest.json's `nodes` map, in id order (unit tests have a map of their
/// own in dbt's manifest).
pub(crate) fn node_entries(manifest: &Manifest) -> Vec<&Node> {
    manifest
        .nodes
        .values()
        .filter(|n| n.unit_test.is_none())
        .collect()
}

/// The JSON of each of `nodes`, on every core (checksums, copies of every file's text).
pub(crate) fn node_json(
    manifest: &Manifest,
    nodes: &[&Node],
    compiled: &CompiledNodes,
) -> Result<Vec<Box<serde_json::value::RawValue>>, serde_json::Error> {
    mart_project::parallel_map(nodes, |n| {
        serde_json::value::to_raw_value(&manifest_node(
            manifest,
            n,
            compiled.sql.get(&n.id),
            compiled.column_types.get(&n.id),
        ))
    })
    .into_iter()
    .collect()
}

/// Everything of the manifest but its `nodes` (empty).
pub(crate) fn manifest_without_nodes(
    manifest: &Manifest,
    env: &mart_jinja::JinjaEnv,
    invocation: &Invocation,
) -> ManifestV12 {
    let units: Vec<&Node> = manifest
        .nodes
        .values()
        .filter(|n| n.unit_test.is_some())
        .collect();
    let nodes = BTreeMap::new();
    let sources = sources_of(manifest);
    let mut macros: BTreeMap<String, ManifestMacro> = env
        .macros()
        .map(|(package, name, file)| {
            let package = package.to_string();
            let path = file.path.to_string_lossy().replace('\\', "/");
            let id = format!("macro.{package}.{name}");
            let macro_sql = macro_sql(&file.text, name);
            let calls = env.macro_dependencies(&package, name, &macro_sql);
            let m = ManifestMacro {
                name: name.to_string(),
                resource_type: "macro".into(),
                package_name: package,
                path: path.clone(),
                original_file_path: path,
                unique_id: id.clone(),
                depends_on: DependsOn {
                    macros: calls,
                    nodes: None,
                },
                macro_sql,
                description: manifest
                    .macro_descriptions
                    .get(&id)
                    .cloned()
                    .unwrap_or_default(),
                meta: Map::new(),
            };
            (id, m)
        })
        .collect();
    for (id, m) in native_macros() {
        macros.entry(id).or_insert(m);
    }
    let mut parent_map = BTreeMap::new();
    let mut child_map = BTreeMap::new();
    for node in manifest.dag.nodes() {
        let id = &node.id;
        let mut parents: Vec<String> = manifest
            .dag
            .parents(id)
            .iter()
            .map(|p| p.to_string())
            .collect();
        parents.sort();
        let mut children: Vec<String> = manifest
            .dag
            .children(id)
            .iter()
            .map(|c| c.to_string())
            .collect();
        children.sort();
        parent_map.insert(id.to_string(), parents);
        child_map.insert(id.to_string(), children);
    }
    ManifestV12 {
        metadata: manifest_metadata(manifest, invocation),
        nodes,
        sources,
        macros,
        docs: crate::docs_exposures::docs_map(manifest),
        exposures: crate::docs_exposures::exposures_map(manifest, Some(invocation)),
        metrics: crate::semantic::semantic_map(manifest, ResourceType::Metric, Some(invocation)),
        groups: groups_of(manifest),
        selectors: Map::new(),
        disabled: Map::new(),
        parent_map,
        child_map,
        group_map: group_map_of(manifest),
        saved_queries: crate::semantic::semantic_map(
            manifest,
            ResourceType::SavedQuery,
            Some(invocation),
        ),
        semantic_models: crate::semantic::semantic_map(
            manifest,
            ResourceType::SemanticModel,
            Some(invocation),
        ),
        unit_tests: units
            .iter()
            .filter_map(|n| Some((n.id.to_string(), unit_test_json(manifest, n)?)))
            .collect(),
    }
}

pub(crate) fn manifest_metadata(manifest: &Manifest, invocation: &Invocation) -> ManifestMetadata {
    ManifestMetadata {
        dbt_schema_version: MANIFEST_SCHEMA.into(),
        dbt_version: invocation.mart_version.clone(),
        generated_at: invocation.generated_at.clone(),
        invocation_id: invocation.invocation_id.clone(),
        env: BTreeMap::new(),
        project_name: manifest.project_name.clone(),
        adapter_type: "postgres".into(),
    }
}

/// A unit test as dbt's manifest v12 writes it (`UnitTestDefinition`).
fn unit_test_json(manifest: &Manifest, node: &Node) -> Option<Value> {
    let unit = node.unit_test.as_deref()?;
    let fixture = |f: &mart_project::Fixture| {
        serde_json::json!({
            "rows": if f.fixture.is_some() { Value::Null } else { f.written_rows.clone() },
            "format": f.format.as_str(),
            "fixture": f.fixture,
        })
    };
    let overrides = &unit.overrides;
    let has_overrides = !(overrides.macros.is_empty()
        && overrides.vars.is_empty()
        && overrides.env_vars.is_empty());
    Some(serde_json::json!({
        "model": manifest.node(&unit.model).map_or("", |m| m.name.as_str()),
        "given": unit.given.iter().map(|g| {
            let mut value = fixture(&g.fixture);
            value["input"] = Value::from(g.input.clone());
            value
        }).collect::<Vec<_>>(),
        "expect": fixture(&unit.expect),
        "name": node.name,
        "resource_type": "unit_test",
        "package_name": node.package,
        "path": node.path,
        "original_file_path": node.original_file_path,
        "unique_id": node.id.as_str(),
        "fqn": node.fqn,
        "description": node.description,
        "overrides": has_overrides.then(|| serde_json::json!({
            "macros": overrides.macros,
            "vars": overrides.vars,
            "env_vars": overrides.env_vars,
        })),
        "depends_on": {"macros": [], "nodes": [unit.model.as_str()]},
        "config": {
            "tags": node.config.tags,
            "meta": node.config.raw.get("meta").cloned().unwrap_or_else(|| Value::Object(Map::new())),
            "enabled": node.config.enabled,
        },
        "schema": node.relation.schema,
        "created_at": 0.0,
        "versions": null,
        "version": null,
    }))
}

/// The manifest's `sources`, by unique id.
fn sources_of(manifest: &Manifest) -> BTreeMap<String, ManifestSource> {
    manifest
        .sources
        .values()
        .map(|s| {
            let table = &s.table;
            let path = table.file.path.to_string_lossy().replace('\\', "/");
            let source = ManifestSource {
                database: s.relation.database.clone(),
                schema: s.relation.schema.clone(),
                name: table.name.clone(),
                resource_type: "source".into(),
                package_name: s.package().to_string(),
                path: path.clone(),
                original_file_path: path,
                unique_id: s.id.to_string(),
                fqn: manifest
                    .dag
                    .node(&s.id)
                    .map(|n| n.fqn.clone())
                    .unwrap_or_default(),
                source_name: table.source_name.clone(),
                source_description: table.source_description.clone(),
                loader: table.loader.clone(),
                identifier: table.identifier.clone(),
                loaded_at_field: table.loaded_at_field.clone(),
                description: table.description.clone(),
                columns: columns(&table.columns, None),
                meta: table.meta.clone(),
                source_meta: Map::new(),
                tags: table.tags.clone(),
                config: source_config_json(table),
                relation_name: Some(s.relation.to_string()),
            };
            (s.id.to_string(), source)
        })
        .collect()
}

/// dbt's `graph` context variable: the manifest's nodes and sources (without compiled SQL),
/// and its other sections, which mart does not have yet, empty.
pub fn graph_context(manifest: &Manifest) -> serde_json::Value {
    let nodes: Map<String, Value> = manifest
        .nodes
        .values()
        .map(|n| {
            let node = manifest_node(manifest, n, None, None);
            (
                n.id.to_string(),
                serde_json::to_value(&node).unwrap_or(Value::Null),
            )
        })
        .collect();
    let sources = serde_json::to_value(sources_of(manifest)).unwrap_or(Value::Null);
    serde_json::json!({
        "nodes": nodes,
        "sources": sources,
        "exposures": crate::docs_exposures::exposures_map(manifest, None),
        "metrics": crate::semantic::semantic_map(manifest, ResourceType::Metric, None),
        "groups": groups_of(manifest),
        "semantic_models": crate::semantic::semantic_map(manifest, ResourceType::SemanticModel, None),
        "saved_queries": crate::semantic::semantic_map(manifest, ResourceType::SavedQuery, None),
    })
}

pub(crate) fn manifest_node(
    manifest: &Manifest,
    node: &Node,
    compiled: Option<&String>,
    column_types: Option<&BTreeMap<String, String>>,
) -> ManifestNode {
    let is_seed = node.resource_type == ResourceType::Seed;
    let raw_code = match &node.test {
        Some(test) => test.raw_code.clone(),
        None => node
            .file
            .as_ref()
            .map(|f| f.text.to_string())
            .unwrap_or_default(),
    };
    // Hashed where the text is: copying every file's text for its checksum was a second
    // copy of the project in fresh memory.
    let checksum = match &node.file {
        Some(f) if node.test.is_none() => sha256_hex(f.text.trim()),
        _ if is_seed => sha256_hex(
            std::fs::read_to_string(manifest.root.join(&node.original_file_path))
                .unwrap_or_default()
                .trim(),
        ),
        _ => sha256_hex(raw_code.trim()),
    };
    let compiled_path = manifest.compiled_path(&node.id).map(|p| {
        p.strip_prefix(&manifest.root)
            .unwrap_or(&p)
            .to_string_lossy()
            .replace('\\', "/")
    });
    let parents: Vec<String> = manifest
        .dag
        .parents(&node.id)
        .iter()
        .map(|p| p.to_string())
        .collect();
    let test = node.test.as_ref();
    ManifestNode {
        database: node.relation.database.clone(),
        schema: node.relation.schema.clone(),
        name: node.name.clone(),
        resource_type: node.resource_type.as_str().into(),
        package_name: node.package.clone(),
        path: node.path.clone(),
        original_file_path: node.original_file_path.clone(),
        unique_id: node.id.to_string(),
        fqn: node.fqn.clone(),
        alias: node.relation.identifier.clone(),
        // As dbt: the sha256 of the file's text without surrounding whitespace.
        checksum: Checksum {
            name: "sha256".into(),
            checksum,
        },
        config: node_config_json(node),
        tags: node.config.tags.clone(),
        description: node.description.clone(),
        columns: columns(&node.columns, column_types),
        meta: node
            .config
            .raw
            .get("meta")
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new())),
        patch_path: None,
        // The configs as the project sets them (what `state:modified.configs` compares).
        unrendered_config: node
            .config
            .raw
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        relation_name: match node.resource_type {
            ResourceType::Test if !test.is_some_and(|t| t.config.store_failures) => None,
            _ if node.config.materialized == Materialization::Ephemeral => None,
            _ => Some(node.relation.to_string()),
        },
        raw_code,
        depends_on: DependsOn {
            macros: node.depends_on_macros.clone(),
            nodes: (!is_seed).then_some(parents),
        },
        language: (!is_seed).then(|| "sql".to_string()),
        refs: (!is_seed).then(|| {
            node.refs
                .iter()
                .map(|r| Ref {
                    name: r.name.clone(),
                    package: r.package.clone(),
                    version: r.version.as_deref().map(version_json),
                })
                .collect()
        }),
        sources: (!is_seed).then(|| {
            node.source_calls
                .iter()
                .map(|s| [s.source.clone(), s.table.clone()])
                .collect()
        }),
        compiled_path: (!is_seed && compiled.is_some())
            .then_some(compiled_path)
            .flatten(),
        compiled: (!is_seed).then_some(compiled.is_some()),
        compiled_code: compiled.cloned(),
        column_name: test.and_then(|t| t.column_name.clone()),
        attached_node: test.and_then(|t| t.attached_node.as_ref().map(|a| a.to_string())),
        test_metadata: test.and_then(|t| {
            t.metadata.as_ref().map(|m| TestMetadata {
                name: m.name.clone(),
                kwargs: m.kwargs.clone(),
                namespace: m.namespace.clone(),
            })
        }),
        contract: (!is_seed).then(|| ManifestContract {
            enforced: node.config.contract.enforced,
            alias_types: node.config.contract.alias_types,
            checksum: node
                .config
                .contract
                .enforced
                .then(|| contract_checksum(node)),
        }),
        constraints: (node.resource_type == ResourceType::Model).then(|| {
            node.constraints
                .iter()
                .map(|c| constraint_json(c, true))
                .collect()
        }),
        group: node
            .group()
            .or_else(|| {
                let attached = test.and_then(|t| t.attached_node.as_ref())?;
                manifest.node(attached)?.group()
            })
            .map(str::to_string),
        model: node.access().map(|access| {
            let versioning = node.versioning.as_deref();
            ModelGovernance {
                access: access.to_string(),
                version: node.version().map(version_json),
                latest_version: versioning
                    .and_then(|v| v.latest_version.as_deref())
                    .map(version_json),
                deprecation_date: versioning.and_then(|v| v.deprecation_date.clone()),
            }
        }),
    }
}

/// The manifest's `groups`, by unique id (`group.<package>.<name>`).
fn groups_of(manifest: &Manifest) -> Map<String, Value> {
    manifest
        .groups
        .iter()
        .map(|(package, g)| {
            let id = format!("group.{package}.{}", g.name);
            let path = g.file.path.to_string_lossy().replace('\\', "/");
            let value = serde_json::json!({
                "name": g.name,
                "resource_type": "group",
                "package_name": package,
                "path": path,
                "original_file_path": path,
                "unique_id": id,
                "owner": g.owner,
                "description": g.description,
                "config": {"meta": g.meta},
            });
            (id, value)
        })
        .collect()
}

/// dbt's `group_map`: each group's name -> the unique ids of the nodes in it.
fn group_map_of(manifest: &Manifest) -> Map<String, Value> {
    let mut map: BTreeMap<String, Vec<String>> = manifest
        .groups
        .iter()
        .map(|(_, g)| (g.name.clone(), Vec::new()))
        .collect();
    for node in manifest.nodes.values() {
        if let Some(group) = node.group() {
            map.entry(group.to_string())
                .or_default()
                .push(node.id.to_string());
        }
    }
    map.into_iter()
        .map(|(group, ids)| (group, Value::from(ids)))
        .collect()
}

/// A constraint as dbt's manifest writes it; `columns` only at model level.
fn constraint_json(c: &mart_project::Constraint, model_level: bool) -> Value {
    let mut value = serde_json::json!({
        "type": c.kind.as_str(),
        "name": c.name,
        "expression": c.expression,
        "warn_unenforced": c.warn_unenforced,
        "warn_unsupported": c.warn_unsupported,
        "to": c.to,
        "to_columns": c.to_columns,
    });
    if let (true, Value::Object(map)) = (model_level, &mut value) {
        map.insert("columns".into(), serde_json::json!(c.columns));
    }
    value
}

/// What an enforced contract guarantees, hashed (as dbt's `build_contract_checksum`
/// hashes the columns by name with their types and constraints, then the materialization
/// and the model-level constraints); mart's text is its own, so the value differs from
/// dbt's but changes exactly when the contract does.
fn contract_checksum(node: &Node) -> String {
    let mut columns: Vec<&mart_project::ColumnProperties> = node.columns.iter().collect();
    columns.sort_by(|a, b| a.name.cmp(&b.name));
    let mut state = String::new();
    for column in columns {
        let constraints: Vec<Value> = column
            .constraints
            .iter()
            .map(|c| constraint_json(c, false))
            .collect();
        state.push_str(&format!(
            "|{}{}{}",
            column.name,
            column.data_type.as_deref().unwrap_or("None"),
            Value::Array(constraints)
        ));
    }
    if node.config.materialized != Materialization::View {
        let constraints: Vec<Value> = node
            .constraints
            .iter()
            .map(|c| constraint_json(c, true))
            .collect();
        state.push_str(&format!(
            "{}{}",
            node.config.materialized,
            Value::Array(constraints)
        ));
    }
    sha256_hex(&state)
}

/// A node's config as dbt writes it: what is set, then dbt's default for every other key
/// of its resource type; every node but a test has its `contract` with both keys.
fn node_config_json(node: &Node) -> Map<String, Value> {
    let mut config = config_json(&node.config.raw);
    if node.resource_type != ResourceType::Test {
        let contract = node.config.contract;
        config.insert(
            "contract".into(),
            serde_json::json!({"enforced": contract.enforced, "alias_types": contract.alias_types}),
        );
    }
    let materialized = node.config.materialized.to_string();
    fill_defaults(
        &mut config,
        node_config_defaults(node.resource_type, &materialized),
    );
    config
}

/// A source's config: its table's settings over dbt's defaults.
fn source_config_json(table: &mart_project::SourceTable) -> Map<String, Value> {
    let mut config = config_json(&table.config);
    config.insert("tags".into(), serde_json::json!(table.tags));
    if table.meta.is_object() {
        config.insert("meta".into(), table.meta.clone());
    }
    if let Some(field) = &table.loaded_at_field {
        config.insert("loaded_at_field".into(), Value::from(field.clone()));
    }
    if let Some(freshness) = table.freshness.clone().filter(|f| !f.is_null()) {
        config.insert("freshness".into(), freshness);
    }
    fill_defaults(&mut config, source_config_defaults());
    config
}

/// Config keys as dbt's manifest spells them; hooks as dbt's hook objects.
fn config_json(raw: &mart_project::ConfigMap) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in raw {
        match key.as_str() {
            "pre_hook" | "post_hook" => {
                let hooks: Vec<Value> = match value {
                    Value::Array(items) => items.clone(),
                    Value::Null => Vec::new(),
                    other => vec![other.clone()],
                }
                .into_iter()
                .map(|h| match h {
                    Value::String(sql) => {
                        serde_json::json!({"sql": sql, "transaction": true, "index": null})
                    }
                    other => other,
                })
                .collect();
                out.insert(key.replace('_', "-"), Value::Array(hooks));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    out.entry("enabled").or_insert(Value::Bool(true));
    out.entry("tags").or_insert(Value::Array(Vec::new()));
    out.entry("meta").or_insert(Value::Object(Map::new()));
    out
}

/// The declared columns; one without a `data_type` takes the type `derived` gives it.
fn columns(
    columns: &[mart_project::ColumnProperties],
    derived: Option<&BTreeMap<String, String>>,
) -> BTreeMap<String, Column> {
    columns
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                Column {
                    name: c.name.clone(),
                    description: c.description.clone(),
                    meta: match &c.meta {
                        Value::Object(_) => c.meta.clone(),
                        _ => Value::Object(Map::new()),
                    },
                    data_type: c.data_type.clone().or_else(|| {
                        // PostgreSQL folds unquoted names: the SQL's `Amount` is `amount`.
                        let name = if c.quote == Some(true) {
                            c.name.clone()
                        } else {
                            c.name.to_lowercase()
                        };
                        derived?.get(&name).cloned()
                    }),
                    constraints: c
                        .constraints
                        .iter()
                        .map(|k| constraint_json(k, false))
                        .collect(),
                    quote: c.quote,
                    tags: c.tags.clone(),
                },
            )
        })
        .collect()
}

/// The `{% macro name ... %}...{% endmacro %}` block of `name` in a macro file (the whole
/// file when the block cannot be found).
fn macro_sql(text: &str, name: &str) -> String {
    let short = name.strip_prefix("test_").unwrap_or(name);
    let start = ["macro ", "test "].iter().find_map(|kw| {
        let needle_name = if *kw == "test " { short } else { name };
        text.match_indices("{%").map(|(i, _)| i).find(|&i| {
            let rest = text[i + 2..].trim_start_matches(['-', '+']).trim_start();
            rest.strip_prefix(kw)
                .is_some_and(|r| r.trim_start().starts_with(&format!("{needle_name}(")))
        })
    });
    let Some(start) = start else {
        return text.to_string();
    };
    let end = ["endmacro", "endtest"]
        .iter()
        .filter_map(|kw| text[start..].find(kw).map(|i| start + i))
        .min()
        .and_then(|i| text[i..].find("%}").map(|j| i + j + 2))
        .unwrap_or(text.len());
    text[start..end].to_string()
}

pub(crate) fn sha256_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest.iter() {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_sql_is_the_macro_block() {
        let text = "{# c #}\n{% macro a(x) %}A{% endmacro %}\n{%- test b(model) -%}B{%- endtest %}";
        assert_eq!(macro_sql(text, "a"), "{% macro a(x) %}A{% endmacro %}");
        assert_eq!(
            macro_sql(text, "test_b"),
            "{%- test b(model) -%}B{%- endtest %}"
        );
        assert_eq!(macro_sql(text, "zz"), text);
    }
}

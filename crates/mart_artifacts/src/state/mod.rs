//! The previous state of `--state DIR`: its manifest.json (mart's or dbt's) and
//! run_results.json, and how the current project compares with them (dbt's
//! `state:` and `result:` selectors, `--defer`, `clone`).

mod compare;
mod macros;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mart_graph::NodeId;
use serde_json::Value;

pub use compare::compare;

use crate::ManifestV12;

/// Why the state folder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the state folder has no {}", .path.display())]
    Missing { path: PathBuf },
    #[error("cannot read {}: {why}", .path.display())]
    Unreadable { path: PathBuf, why: String },
    #[error("{} is not a manifest/run results file: {why}", .path.display())]
    Invalid { path: PathBuf, why: String },
}

/// A manifest's resources as JSON objects by unique id, the shape both mart's and dbt's
/// manifest.json have; what the comparison reads from each.
#[derive(Clone, Debug, Default)]
pub struct StateManifest {
    pub project_name: String,
    pub nodes: BTreeMap<String, Value>,
    pub sources: BTreeMap<String, Value>,
    pub exposures: BTreeMap<String, Value>,
    pub unit_tests: BTreeMap<String, Value>,
    pub macros: BTreeMap<String, Value>,
}

impl StateManifest {
    fn from_json(mut doc: Value) -> Result<StateManifest, String> {
        let mut section = |key: &str| -> Result<BTreeMap<String, Value>, String> {
            match doc.get_mut(key).map(Value::take) {
                None | Some(Value::Null) => Ok(BTreeMap::new()),
                Some(Value::Object(map)) => Ok(map.into_iter().collect()),
                Some(_) => Err(format!("`{key}` is not an object")),
            }
        };
        let nodes = section("nodes")?;
        let sources = section("sources")?;
        let exposures = section("exposures")?;
        let unit_tests = section("unit_tests")?;
        let macros = section("macros")?;
        if !doc.get("metadata").is_some_and(Value::is_object) {
            return Err("it has no `metadata`".into());
        }
        let project_name = doc["metadata"]["project_name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        Ok(StateManifest {
            project_name,
            nodes,
            sources,
            exposures,
            unit_tests,
            macros,
        })
    }

    /// The current project's manifest, as the comparison reads it.
    pub fn of(manifest: &ManifestV12) -> Result<StateManifest, serde_json::Error> {
        StateManifest::from_json(serde_json::to_value(manifest)?)
            .map_err(|why| serde_json::Error::io(std::io::Error::other(why)))
    }

    /// The relation a previous node was built in, for `--defer` and `clone`: refable
    /// (model, seed, snapshot) and not ephemeral.
    pub fn relation_of(&self, id: &NodeId) -> Option<StateRelation> {
        let node = self.nodes.get(id.as_str())?;
        let text = |key: &str| node.get(key).and_then(Value::as_str).map(str::to_string);
        let kind = text("resource_type")?;
        if !matches!(kind.as_str(), "model" | "seed" | "snapshot") {
            return None;
        }
        let materialized = node["config"]["materialized"].as_str().unwrap_or("");
        if materialized == "ephemeral" {
            return None;
        }
        Some(StateRelation {
            database: text("database"),
            schema: text("schema")?,
            identifier: text("alias").or_else(|| text("name"))?,
            materialized: materialized.to_string(),
        })
    }
}

/// Where a previous node's relation is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateRelation {
    pub database: Option<String>,
    pub schema: String,
    pub identifier: String,
    pub materialized: String,
}

/// What `--state DIR` holds.
#[derive(Clone, Debug)]
pub struct PreviousState {
    pub dir: PathBuf,
    pub manifest: StateManifest,
    /// Each node's status in DIR/run_results.json; None without that file.
    pub results: Option<BTreeMap<NodeId, String>>,
}

/// Reads DIR/manifest.json (required) and DIR/run_results.json (when there).
pub fn read_state(dir: &Path) -> Result<PreviousState, StateError> {
    let manifest_path = dir.join("manifest.json");
    let doc = read_json(&manifest_path)?.ok_or_else(|| StateError::Missing {
        path: manifest_path.clone(),
    })?;
    let manifest = StateManifest::from_json(doc).map_err(|why| StateError::Invalid {
        path: manifest_path,
        why,
    })?;
    let results_path = dir.join("run_results.json");
    let results = match read_json(&results_path)? {
        None => None,
        Some(doc) => Some(result_statuses(&doc).map_err(|why| StateError::Invalid {
            path: results_path,
            why,
        })?),
    };
    Ok(PreviousState {
        dir: dir.to_path_buf(),
        manifest,
        results,
    })
}

/// A JSON file, or None when there is none.
fn read_json(path: &Path) -> Result<Option<Value>, StateError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(StateError::Unreadable {
                path: path.to_path_buf(),
                why: e.to_string(),
            })
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| StateError::Invalid {
            path: path.to_path_buf(),
            why: e.to_string(),
        })
}

/// `results[].unique_id` -> `status`.
fn result_statuses(doc: &Value) -> Result<BTreeMap<NodeId, String>, String> {
    let results = doc
        .get("results")
        .and_then(Value::as_array)
        .ok_or("it has no `results` list")?;
    results
        .iter()
        .map(|r| {
            let id = r.get("unique_id").and_then(Value::as_str);
            let status = r.get("status").and_then(Value::as_str);
            match (id, status) {
                (Some(id), Some(status)) => Ok((NodeId::new(id), status.to_string())),
                _ => Err("a result has no `unique_id` or `status`".to_string()),
            }
        })
        .collect()
}

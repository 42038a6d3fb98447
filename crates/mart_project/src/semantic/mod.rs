//! dbt's semantic layer in property files: `semantic_models:`, `metrics:`,
//! `saved_queries:` and the models' `time_spine:`. They are read into dbt's manifest
//! shape and checked on their own here; what they name elsewhere in the project (models,
//! measures, metrics) is checked by the compiler. Nothing is ever executed for them.

mod entry;
mod metrics;
mod models;
mod saved_queries;
mod time_spine;

use std::collections::BTreeMap;
use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic, Diagnostics, SourceFile};
use serde_json::{Map, Value};

pub use time_spine::is_day_or_finer;

use crate::yaml;

/// A semantic model: the model it describes and dbt's fields for it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SemanticModel {
    pub name: String,
    /// `model: ref('x')` or `ref('package', 'x')`: (package, name).
    pub model: (Option<String>, String),
    /// model, description, label, defaults, primary_entity, entities, measures,
    /// dimensions, as dbt's manifest writes them.
    pub body: Map<String, Value>,
    pub config: Map<String, Value>,
    #[serde(with = "mart_diagnostics::shared_files")]
    pub file: Arc<SourceFile>,
}

impl SemanticModel {
    /// The names of its measures.
    pub fn measures(&self) -> impl Iterator<Item = &str> {
        self.body
            .get("measures")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|m| m.get("name").and_then(Value::as_str))
    }
}

/// A metric with the measures and metrics it reads.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Metric {
    pub name: String,
    /// The measures named by `measure`, `base_measure`, `conversion_measure`.
    pub measures: Vec<String>,
    /// The metrics named by `numerator`, `denominator`, `metrics`.
    pub metrics: Vec<String>,
    pub meta: Value,
    pub tags: Vec<String>,
    /// description, label, type, type_params (without input_measures), filter,
    /// time_granularity, as dbt's manifest writes them.
    pub body: Map<String, Value>,
    pub config: Map<String, Value>,
    #[serde(with = "mart_diagnostics::shared_files")]
    pub file: Arc<SourceFile>,
}

/// A saved query and the metrics it asks for.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SavedQuery {
    pub name: String,
    pub metrics: Vec<String>,
    pub exports: Vec<Export>,
    pub tags: Vec<String>,
    /// query_params, description, label, as dbt's manifest writes them.
    pub body: Map<String, Value>,
    pub config: Map<String, Value>,
    #[serde(with = "mart_diagnostics::shared_files")]
    pub file: Arc<SourceFile>,
}

/// One export of a saved query, with its config as written.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Export {
    pub name: String,
    pub config: Map<String, Value>,
}

/// A model's `time_spine:`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TimeSpine {
    /// The model's name.
    pub model: String,
    pub column: String,
    pub granularity: String,
    /// `{name, column_name}` each.
    pub custom_granularities: Vec<Value>,
    #[serde(with = "mart_diagnostics::shared_files")]
    pub file: Arc<SourceFile>,
}

/// The enabled semantic-layer entries of property files.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct SemanticLayer {
    pub semantic_models: Vec<SemanticModel>,
    pub metrics: Vec<Metric>,
    pub saved_queries: Vec<SavedQuery>,
    pub time_spines: Vec<TimeSpine>,
}

impl SemanticLayer {
    pub fn is_empty(&self) -> bool {
        self.semantic_models.is_empty() && self.metrics.is_empty() && self.saved_queries.is_empty()
    }

    pub(crate) fn extend(&mut self, other: SemanticLayer) {
        self.semantic_models.extend(other.semantic_models);
        self.metrics.extend(other.metrics);
        self.saved_queries.extend(other.saved_queries);
        self.time_spines.extend(other.time_spines);
    }

    /// A name is a semantic model's, metric's or saved query's id within the project:
    /// dbt rejects a second one of the same kind.
    pub(crate) fn check_unique(&self, errors: &mut Diagnostics) {
        let named = |items: Vec<(&'static str, &str, &Arc<SourceFile>)>,
                     errors: &mut Diagnostics| {
            let mut seen: BTreeMap<&str, &Arc<SourceFile>> = BTreeMap::new();
            for (what, name, file) in items {
                if let Some(first) = seen.insert(name, file) {
                    let after = if Arc::ptr_eq(first, file) {
                        yaml::entry_span(file, name).range.end
                    } else {
                        0
                    };
                    errors.push(
                        Diagnostic::error(
                            Code::DuplicateNode,
                            format!(
                                "two {what}s are named '{name}': {} and {}",
                                first.path.display(),
                                file.path.display()
                            ),
                        )
                        .with_span(yaml::entry_span_after(file, name, after))
                        .with_label(yaml::entry_span(first, name), "first declared here")
                        .with_help(format!("rename or remove one of the {what}s")),
                    );
                }
            }
        };
        named(
            self.semantic_models
                .iter()
                .map(|m| ("semantic model", m.name.as_str(), &m.file))
                .collect(),
            errors,
        );
        named(
            self.metrics
                .iter()
                .map(|m| ("metric", m.name.as_str(), &m.file))
                .collect(),
            errors,
        );
        named(
            self.saved_queries
                .iter()
                .map(|q| ("saved query", q.name.as_str(), &q.file))
                .collect(),
            errors,
        );
    }
}

/// Where the top-level list `key` of a property file starts (a line beginning with
/// `key:`, not a nested key of that name): its entries are looked up from there.
pub fn list_start(file: &Arc<SourceFile>, key: &str) -> usize {
    let head = format!("{key}:");
    if file.text.starts_with(&head) {
        return 0;
    }
    file.text.find(&format!("\n{head}")).map_or(0, |i| i + 1)
}

/// The semantic layer of one property file (`root` is its YAML).
pub(crate) fn parse(
    file: &Arc<SourceFile>,
    root: &serde_yaml::Value,
) -> Result<SemanticLayer, Diagnostic> {
    let list = |key: &str| -> Result<Vec<Value>, Diagnostic> {
        match root.get(key).cloned().map(yaml::to_json) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(Diagnostic::error(
                Code::PropertyFile,
                format!("`{key}:` must be a list"),
            )
            .with_span(yaml::key_span(file, key))
            .with_help(format!("write {key}: as a list of `- name: ...` entries"))),
        }
    };
    let enabled = |config: &Map<String, Value>| config.get("enabled") != Some(&Value::Bool(false));
    let mut layer = SemanticLayer::default();
    for raw in list("semantic_models")? {
        let model = models::semantic_model(file, &raw)?;
        if enabled(&model.config) {
            layer.semantic_models.push(model);
        }
    }
    for raw in list("metrics")? {
        let metric = metrics::metric(file, &raw)?;
        if enabled(&metric.config) {
            layer.metrics.push(metric);
        }
    }
    for raw in list("saved_queries")? {
        let query = saved_queries::saved_query(file, &raw)?;
        if enabled(&query.config) {
            layer.saved_queries.push(query);
        }
    }
    let models = root.get("models").cloned().map(yaml::to_json);
    layer.time_spines = time_spine::time_spines(file, models.as_ref())?;
    Ok(layer)
}

#[cfg(test)]
mod tests;

//! The semantic layer in the manifest and the graph: semantic models are children of the
//! model they describe, metrics of the semantic models holding their measures (or of the
//! metrics they combine), saved queries of their metrics. What they name is checked here,
//! with the file and line; the time spine dbt requires is looked for. Nothing is built.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use mart_diagnostics::{closest_name, Code, Diagnostic, Diagnostics};
use mart_graph::{GraphNode, NodeId, ResourceType};
use mart_jinja::RefCall;
use mart_project::{SemanticLayer, Target};
use serde_json::{json, Map, Value};

use crate::loading::Loading;
use crate::manifest::{flat_config, resolve_calls, Dependent, SourceNode};
use crate::Node;

/// A semantic model, metric or saved query with its place in the graph.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SemanticNode {
    pub id: NodeId,
    pub resource_type: ResourceType,
    pub name: String,
    pub package: String,
    /// [package, folders of its property file under the model path..., name], as dbt.
    pub fqn: Vec<String>,
    /// The property file relative to its model path, and to the package's folder.
    pub path: String,
    pub original_file_path: String,
    pub depends_on: Vec<NodeId>,
    pub refs: Vec<RefCall>,
    pub tags: Vec<String>,
    /// Its `config:` as written.
    pub config: Map<String, Value>,
    /// The fields of dbt's manifest entry of its kind (node_relation, type_params with
    /// input_measures, exports with their schema...).
    pub body: Map<String, Value>,
}

impl SemanticNode {
    pub(crate) fn graph_node(&self) -> GraphNode {
        GraphNode {
            id: self.id.clone(),
            name: self.name.clone(),
            resource_type: self.resource_type,
            package: self.package.clone(),
            original_file_path: self.original_file_path.clone(),
            fqn: self.fqn.clone(),
            tags: self.tags.clone(),
            materialized: None,
            source_name: None,
            config: flat_config(&self.config.clone().into_iter().collect()),
            depends_on: self.depends_on.clone(),
            test_type: None,
            test_name: None,
            version: None,
        }
    }
}

/// The semantic nodes of every project, and the time spines of the semantic manifest.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct SemanticGraph {
    pub nodes: BTreeMap<NodeId, SemanticNode>,
    /// dbt's `project_configuration.time_spines`.
    pub time_spines: Vec<Value>,
    /// dbt's `time_spine_table_configurations`: a model named `metricflow_time_spine`.
    pub legacy_time_spines: Vec<Value>,
}

impl SemanticGraph {
    pub fn of_type(&self, t: ResourceType) -> impl Iterator<Item = &SemanticNode> {
        self.nodes.values().filter(move |n| n.resource_type == t)
    }
}

/// What the semantic nodes are checked against.
pub(crate) struct Context<'a> {
    pub names: crate::manifest::Names<'a>,
    pub disabled: &'a HashMap<String, PathBuf>,
    pub sources: &'a BTreeMap<NodeId, SourceNode>,
    pub nodes: &'a [Node],
    pub target: &'a Target,
}

/// dbt's fallback time spine model, read as a day spine on `date_day`.
const LEGACY_TIME_SPINE: &str = "metricflow_time_spine";

pub(crate) fn semantic_graph(
    projects: &[Loading<'_>],
    cx: &Context<'_>,
    errors: &mut Diagnostics,
) -> SemanticGraph {
    let mut graph = SemanticGraph::default();
    // measure -> the semantic model holding it; metric name -> its id.
    let mut measures: BTreeMap<String, NodeId> = BTreeMap::new();
    let mut metric_ids: BTreeMap<String, NodeId> = BTreeMap::new();
    for project in projects {
        let layer = &project.semantic;
        let package = project.config.name.as_str();
        for model in &layer.semantic_models {
            let id = NodeId::for_node(ResourceType::SemanticModel, package, &model.name);
            let refs = vec![RefCall {
                package: model.model.0.clone(),
                name: model.model.1.clone(),
                version: None,
            }];
            let depends_on = resolve_calls(
                &Dependent {
                    id: &id,
                    name: &model.name,
                    package,
                    group: model.config.get("group").and_then(Value::as_str),
                    attached: None,
                    file: &model.file,
                    refs: &refs,
                    source_calls: &[],
                },
                cx.names,
                cx.disabled,
                cx.sources,
                errors,
            );
            let mut body = model.body.clone();
            let relation = depends_on
                .first()
                .and_then(|parent| cx.nodes.iter().find(|n| &n.id == parent))
                .map(|n| node_relation(&n.relation));
            body.insert("node_relation".into(), relation.unwrap_or(Value::Null));
            for measure in model.measures() {
                measures
                    .entry(measure.to_string())
                    .or_insert_with(|| id.clone());
            }
            let node = common(
                project,
                ResourceType::SemanticModel,
                &model.name,
                &model.file,
                (depends_on, refs, Vec::new()),
                &model.config,
                body,
            );
            graph.nodes.insert(id, node);
        }
        for metric in &layer.metrics {
            metric_ids.insert(
                metric.name.clone(),
                NodeId::for_node(ResourceType::Metric, package, &metric.name),
            );
        }
    }
    // The measures each metric reads, through the metrics it combines.
    let all_metrics: BTreeMap<&str, &mart_project::Metric> = projects
        .iter()
        .flat_map(|p| &p.semantic.metrics)
        .map(|m| (m.name.as_str(), m))
        .collect();
    for project in projects {
        let layer: &SemanticLayer = &project.semantic;
        for metric in &layer.metrics {
            let reader = (&metric.file, "metric", metric.name.as_str());
            let mut depends_on = Vec::new();
            depend_on(
                &mut depends_on,
                reader,
                ("measure", &metric.measures, &measures),
                errors,
            );
            depend_on(
                &mut depends_on,
                reader,
                ("metric", &metric.metrics, &metric_ids),
                errors,
            );
            let mut body = metric.body.clone();
            let mut inputs = Vec::new();
            input_measures(metric, &all_metrics, &mut inputs, 0);
            if let Some(Value::Object(params)) = body.get_mut("type_params") {
                params.insert("input_measures".into(), Value::Array(inputs));
            }
            body.insert("meta".into(), metric.meta.clone());
            let node = common(
                project,
                ResourceType::Metric,
                &metric.name,
                &metric.file,
                (depends_on, Vec::new(), metric.tags.clone()),
                &metric.config,
                body,
            );
            graph.nodes.insert(node.id.clone(), node);
        }
        for query in &layer.saved_queries {
            let reader = (&query.file, "saved query", query.name.as_str());
            let mut depends_on = Vec::new();
            depend_on(
                &mut depends_on,
                reader,
                ("metric", &query.metrics, &metric_ids),
                errors,
            );
            let mut body = query.body.clone();
            let exports: Vec<Value> = query
                .exports
                .iter()
                .map(|export| {
                    let setting = |key: &str| export.config.get(key).or_else(|| query.config.get(key)).cloned();
                    json!({
                        "name": export.name,
                        "config": {
                            "export_as": setting("export_as"),
                            "schema_name": setting("schema").unwrap_or_else(|| json!(cx.target.schema)),
                            "alias": export.config.get("alias").cloned().unwrap_or_else(|| json!(export.name)),
                            "database": cx.target.dbname,
                        },
                        "unrendered_config": export.config,
                    })
                })
                .collect();
            body.insert("exports".into(), Value::Array(exports));
            let node = common(
                project,
                ResourceType::SavedQuery,
                &query.name,
                &query.file,
                (depends_on, Vec::new(), query.tags.clone()),
                &query.config,
                body,
            );
            graph.nodes.insert(node.id.clone(), node);
        }
    }
    time_spines(projects, cx, &mut graph, errors);
    graph
}

/// dbt's `input_measures`: the measures a metric reads, through the metrics it combines
/// (each once, in the order met).
fn input_measures(
    metric: &mart_project::Metric,
    all: &BTreeMap<&str, &mart_project::Metric>,
    out: &mut Vec<Value>,
    depth: usize,
) {
    // Deeper than any sensible chain: a cycle of derived metrics.
    if depth > 32 {
        return;
    }
    let params = &metric.body["type_params"];
    let direct = [
        &params["measure"],
        &params["conversion_type_params"]["base_measure"],
        &params["conversion_type_params"]["conversion_measure"],
    ];
    for measure in direct.into_iter().filter(|m| m.is_object()) {
        if !out.contains(measure) {
            out.push(measure.clone());
        }
    }
    for input in &metric.metrics {
        if let Some(inner) = all.get(input.as_str()) {
            input_measures(inner, all, out, depth + 1);
        }
    }
}

fn node_relation(relation: &mart_adapter::Relation) -> Value {
    json!({
        "alias": relation.identifier,
        "schema_name": relation.schema,
        "database": relation.database,
        "relation_name": relation.to_string(),
    })
}

/// What every semantic node has, as exposures have it.
fn common(
    project: &Loading<'_>,
    resource_type: ResourceType,
    name: &str,
    file: &std::sync::Arc<mart_diagnostics::SourceFile>,
    (depends_on, refs, tags): (Vec<NodeId>, Vec<RefCall>, Vec<String>),
    config: &Map<String, Value>,
    body: Map<String, Value>,
) -> SemanticNode {
    let package = project.config.name.as_str();
    let original_file_path = project.relative_path(&file.path);
    let path = crate::exposures::under_model_path(project, &original_file_path);
    let mut fqn = vec![package.to_string()];
    if let Some((folders, _)) = path.rsplit_once('/') {
        fqn.extend(folders.split('/').map(str::to_string));
    }
    fqn.push(name.to_string());
    SemanticNode {
        id: NodeId::for_node(resource_type, package, name),
        resource_type,
        name: name.to_string(),
        package: package.to_string(),
        fqn,
        path,
        original_file_path,
        depends_on,
        refs,
        tags,
        config: config.clone(),
        body,
    }
}

/// An error at the name a `what` entry gives that nothing declares.
/// Adds to `depends_on` the id each of `names` (measures or metrics, as `kind` says)
/// stands for in `known`, each once; a name `known` lacks is an error at the reader.
fn depend_on(
    depends_on: &mut Vec<NodeId>,
    (file, what, name): (&std::sync::Arc<mart_diagnostics::SourceFile>, &str, &str),
    (kind, names, known): (&str, &[String], &BTreeMap<String, NodeId>),
    errors: &mut Diagnostics,
) {
    for wanted in names {
        match known.get(wanted) {
            Some(id) if !depends_on.contains(id) => depends_on.push(id.clone()),
            Some(_) => {}
            None => errors.push(missing(file, what, name, kind, wanted, known.keys())),
        }
    }
}

fn missing<'a>(
    file: &std::sync::Arc<mart_diagnostics::SourceFile>,
    what: &str,
    name: &str,
    kind: &str,
    wanted: &str,
    known: impl Iterator<Item = &'a String>,
) -> Diagnostic {
    let list = if what == "metric" {
        "metrics"
    } else {
        "saved_queries"
    };
    let entry =
        mart_project::entry_span_after(file, name, mart_project::semantic_list_start(file, list));
    let at = file
        .text
        .get(entry.range.end..)
        .and_then(|rest| find_word(rest, wanted))
        .map_or(entry.clone(), |i| {
            let start = entry.range.end + i;
            mart_diagnostics::Span::new(file.clone(), start..start + wanted.len())
        });
    let message = match kind {
        "measure" => {
            format!("{what} '{name}' reads measure '{wanted}', which no semantic model has")
        }
        _ => format!("{what} '{name}' reads metric '{wanted}', which is not declared"),
    };
    let d = Diagnostic::error(Code::PropertyFile, message).with_span(at);
    match closest_name(wanted, known.map(String::as_str)) {
        Some(close) => d.with_help(format!("did you mean '{close}'?")),
        None => d.with_help(format!("declare the {kind} or fix its name")),
    }
}

/// The first place `word` is written as a whole name (so `revenu` is not found inside
/// `revenue / orders`).
fn find_word(text: &str, word: &str) -> Option<usize> {
    let is_name = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).map(|(i, _)| i).find(|&i| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(is_name) && !after.is_some_and(is_name)
    })
}

/// dbt requires, when there are semantic models, a time spine of a day or finer: a
/// model's `time_spine:` or the legacy `metricflow_time_spine` model.
fn time_spines(
    projects: &[Loading<'_>],
    cx: &Context<'_>,
    graph: &mut SemanticGraph,
    errors: &mut Diagnostics,
) {
    let mut has_day = false;
    for project in projects {
        let package = project.config.name.as_str();
        for spine in &project.semantic.time_spines {
            let Some(node) = cx
                .names
                .0
                .find(None, &spine.model, None, package)
                .and_then(|id| cx.nodes.iter().find(|n| &n.id == id))
            else {
                // Properties of a missing model are warned about with the others.
                continue;
            };
            has_day |= mart_project::is_day_or_finer(&spine.granularity);
            graph.time_spines.push(json!({
                "node_relation": node_relation(&node.relation),
                "primary_column": {"name": spine.column, "time_granularity": spine.granularity},
                "custom_granularities": spine.custom_granularities,
            }));
        }
    }
    if !graph.of_type(ResourceType::SemanticModel).any(|_| true) {
        return;
    }
    let root = projects
        .first()
        .map(|p| p.config.name.as_str())
        .unwrap_or_default();
    let legacy = cx
        .names
        .0
        .find(None, LEGACY_TIME_SPINE, None, root)
        .and_then(|id| cx.nodes.iter().find(|n| &n.id == id));
    if let Some(node) = legacy {
        has_day = true;
        graph.legacy_time_spines.push(json!({
            "location": node.relation.to_string(),
            "column_name": "date_day",
            "grain": "day",
        }));
    }
    if !has_day {
        let first = graph
            .of_type(ResourceType::SemanticModel)
            .next()
            .map(|n| n.name.clone());
        let file = projects
            .iter()
            .flat_map(|p| &p.semantic.semantic_models)
            .find(|m| Some(&m.name) == first.as_ref());
        let mut d = Diagnostic::error(
            Code::PropertyFile,
            "the semantic layer needs a time spine model with a granularity of a day or finer, and the project has none",
        )
        .with_help("add `time_spine: {standard_granularity_column: date_day}` to a date spine model's properties, with `granularity: day` on that column (https://docs.getdbt.com/docs/build/metricflow-time-spine)");
        if let Some(model) = file {
            d = d.with_span(mart_project::entry_span_after(
                &model.file,
                &model.name,
                mart_project::semantic_list_start(&model.file, "semantic_models"),
            ));
        }
        errors.push(d);
    }
}

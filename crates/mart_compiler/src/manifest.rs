//! Project -> Manifest: the parse render of every model (dependencies and config() calls),
//! merged configs, relation names, and the DAG.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use mart_adapter::Relation;
use mart_diagnostics::{closest_name, Code, Diagnostic, Diagnostics, SourceFile, Span};
use mart_graph::{Dag, FlatConfig, GraphError, GraphNode, NodeId, ResourceType};
use mart_jinja::{
    DocLookup, EnvSettings, JinjaEnv, Phase, RefCall, RenderScope, ResolvedRef, Resolver,
    SourceCall,
};
use mart_project::{
    merge_into, ColumnProperties, ConfigMap, ConfigTree, Constraint, DocBlock, Group,
    Materialization, NodeConfig, Project, ProjectConfig, SourceTable, Target,
    MODEL_MATERIALIZATIONS, SNAPSHOT_MATERIALIZATIONS,
};
use minijinja::value::Value;

use crate::access::{AccessRules, Referrer};
use crate::config_checks::{unknown_config_call_keys, ConfigOrigins};
use crate::data_tests::{parse_tests, TestInfo};
use crate::descriptions::{doc_lookup, node_color_warnings, Describer};
use crate::exposures::{exposure_nodes, ExposureNode};
use crate::loading::Loading;
use crate::locate::locate_call;
use crate::names::NameIndex;
use crate::node_store::NodeStore;
use crate::semantic::{semantic_graph, SemanticGraph, SemanticNode};
use crate::unit_tests::{unit_test_nodes, UnitTestInfo};
use crate::versions::ModelVersioning;

/// A model, seed or snapshot as the engine sees it after parsing.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Node {
    pub id: NodeId,
    pub name: String,
    pub resource_type: ResourceType,
    pub package: String,
    pub fqn: Vec<String>,
    /// Relative to the project root, forward slashes.
    pub original_file_path: String,
    /// dbt's `path`: relative to the resource folder (`dim/dim_user.sql`); a generic
    /// test's `<name>.sql`.
    pub path: String,
    /// The SQL file (models, snapshots, singular tests), the property file (generic
    /// tests); `None` for seeds.
    #[serde(with = "mart_diagnostics::shared_files::option")]
    pub file: Option<Arc<SourceFile>>,
    /// Boxed, as `test` is: it is most of a node's size.
    pub config: Box<NodeConfig>,
    pub relation: Relation,
    pub description: String,
    pub columns: Arc<[ColumnProperties]>,
    /// Model-level `constraints:` (column constraints are on the columns).
    #[serde(default = "no_constraints")]
    pub constraints: Arc<[Constraint]>,
    pub depends_on: Vec<NodeId>,
    pub refs: Vec<RefCall>,
    pub source_calls: Vec<SourceCall>,
    /// The macros its own Jinja calls at parse time, as unique ids
    /// (`macro.dbt.is_incremental`): dbt's `depends_on.macros`.
    #[serde(default)]
    pub depends_on_macros: Vec<String>,
    /// Set for tests. Boxed: a node is moved several times while a manifest is built, and
    /// most nodes are not tests.
    pub test: Option<Box<TestInfo>>,
    /// Set for unit tests; boxed for the same reason.
    #[serde(default)]
    pub unit_test: Option<Box<UnitTestInfo>>,
    /// Set for a version of a versioned model, or a model with a deprecation date.
    #[serde(default)]
    pub versioning: Option<Box<ModelVersioning>>,
}

fn no_constraints() -> Arc<[Constraint]> {
    Arc::from(Vec::new())
}

/// The model-level constraints of a node's property entry, if it has one.
fn constraints_of(properties: Option<&mart_project::NodeProperties>) -> Arc<[Constraint]> {
    properties.map_or_else(no_constraints, |p| p.constraints.clone())
}

impl Node {
    pub fn materialized(&self) -> &Materialization {
        &self.config.materialized
    }

    /// A versioned model's version.
    pub fn version(&self) -> Option<&str> {
        self.versioning.as_ref()?.version.as_deref()
    }

    /// A versioned model's version and whether it is the latest, for ref resolution.
    pub(crate) fn version_entry(&self) -> Option<(&str, bool)> {
        let v = self.versioning.as_ref()?;
        let version = v.version.as_deref()?;
        Some((version, v.latest_version.as_deref() == Some(version)))
    }

    /// `config.group`.
    pub fn group(&self) -> Option<&str> {
        self.config.raw.get("group").and_then(|g| g.as_str())
    }

    /// A model's `access` (dbt's default: protected); none for other nodes.
    pub fn access(&self) -> Option<&str> {
        (self.resource_type == ResourceType::Model).then(|| {
            self.config
                .raw
                .get("access")
                .and_then(|a| a.as_str())
                .unwrap_or(crate::access::DEFAULT_ACCESS)
        })
    }

    pub(crate) fn graph_node(&self) -> GraphNode {
        GraphNode {
            id: self.id.clone(),
            name: self.name.clone(),
            resource_type: self.resource_type,
            package: self.package.clone(),
            original_file_path: self.original_file_path.clone(),
            fqn: self.fqn.clone(),
            tags: self.config.tags.clone(),
            materialized: Some(self.config.materialized.to_string()),
            source_name: None,
            config: flat_config(&self.config.raw),
            depends_on: self.depends_on.clone(),
            test_type: match (&self.test, &self.unit_test) {
                (Some(t), _) if t.metadata.is_some() => Some("generic".to_string()),
                (Some(_), _) => Some("singular".to_string()),
                (None, Some(_)) => Some("unit".to_string()),
                (None, None) => None,
            },
            test_name: self
                .test
                .as_ref()
                .and_then(|t| t.metadata.as_ref())
                .map(|m| m.name.clone()),
            version: self.versioning.as_ref().and_then(|v| v.graph_version()),
        }
    }
}

/// A declared source table.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SourceNode {
    pub id: NodeId,
    pub table: SourceTable,
    pub relation: Relation,
}

impl SourceNode {
    /// The package that declares it: the second part of `source.<package>.<source>.<table>`.
    pub fn package(&self) -> &str {
        self.id.as_str().split('.').nth(1).unwrap_or_default()
    }
}

/// The parsed project: every enabled node with its config, relation and parents.
pub struct Manifest {
    pub project_name: String,
    pub root: PathBuf,
    /// mart's target directory (absolute).
    pub target_dir: PathBuf,
    /// Shared with the ref resolver, which reads parents' relations from it.
    pub nodes: Arc<NodeStore>,
    pub sources: BTreeMap<NodeId, SourceNode>,
    pub exposures: BTreeMap<NodeId, ExposureNode>,
    /// Semantic models, metrics and saved queries, and the time spines.
    pub semantic: SemanticGraph,
    /// The docs blocks of the project and its packages.
    pub docs: Vec<DocBlock>,
    /// `macro.<package>.<name>` -> its description from a `macros:` entry, rendered.
    pub macro_descriptions: BTreeMap<String, String>,
    /// The `groups:` of the project and its packages, with their package.
    pub groups: Vec<(String, Group)>,
    pub dag: Dag,
    pub warnings: Vec<Diagnostic>,
    /// The project file's `on-run-start` / `on-run-end` hooks, and the file itself.
    pub on_run_start: Vec<String>,
    pub on_run_end: Vec<String>,
    pub project_file: PathBuf,
    pub(crate) resolver: Arc<ManifestResolver>,
}

impl Manifest {
    pub fn node(&self, id: &NodeId) -> Option<&Node> {
        self.nodes.get(id)
    }

    /// `--defer`: from now on a ref() to one of these nodes renders the given relation
    /// (the state's) instead of the node's own; ephemeral nodes stay inlined. Set once per
    /// command; false when refs were deferred already.
    pub fn defer_refs(&self, relations: HashMap<NodeId, Relation>) -> bool {
        self.resolver.deferred.set(relations).is_ok()
    }

    /// The project's Jinja environment settings for this target and vars; `packages`
    /// are the installed packages' project files.
    pub fn env_settings(
        config: &ProjectConfig,
        packages: &[ProjectConfig],
        target: &Target,
        cli_vars: &serde_json::Map<String, serde_json::Value>,
    ) -> EnvSettings {
        let mut vars = config.vars.clone();
        vars.extend(cli_vars.clone());
        let is_package = |key: &str| packages.iter().any(|p| p.name == key);
        let package_vars = packages
            .iter()
            .map(|package| {
                // dbt's precedence, lowest first: the package's own vars, the root
                // project's global vars, the root's vars scoped to the package, --vars.
                let mut merged = package.vars.clone();
                let scoped = |c: &ProjectConfig| match c.raw_vars.get(&package.name) {
                    Some(serde_json::Value::Object(map)) => map.clone(),
                    _ => serde_json::Map::new(),
                };
                merged.extend(
                    config
                        .raw_vars
                        .iter()
                        .filter(|(k, v)| !(v.is_object() && (is_package(k) || **k == config.name)))
                        .map(|(k, v)| (k.clone(), v.clone())),
                );
                merged.extend(scoped(config));
                merged.extend(cli_vars.clone());
                (package.name.clone(), merged)
            })
            .collect();
        EnvSettings {
            project_name: config.name.clone(),
            target: target_value(target),
            vars,
            package_vars,
            dispatch: config.dispatch.clone(),
            package_materialization_overrides: config.package_materialization_overrides,
            ..EnvSettings::default()
        }
    }

    /// Parses every model (in parallel), merges configs and builds the DAG. Collects all
    /// errors it can find; nothing here touches the database.
    pub fn build(
        project: &Project,
        target: &Target,
        env: &JinjaEnv,
    ) -> Result<Manifest, Diagnostics> {
        let root_package = project.config.name.clone();
        let mut errors = Diagnostics::default();
        let mut warnings = project.warnings.clone();
        let mut nodes: Vec<Node> = Vec::new();
        let mut disabled: HashMap<String, PathBuf> = HashMap::new();
        let mut sources: BTreeMap<NodeId, SourceNode> = BTreeMap::new();
        let projects = Loading::all(project);
        let docs = doc_lookup(project);
        // Where each project's nodes start in `nodes`, for its tests.
        let mut starts = Vec::with_capacity(projects.len());
        for project in &projects {
            starts.push(nodes.len());
            let parsed_models = parse_models(project, target, env, &docs);
            // Grown once per project: a large Vec of nodes doubling its way up is copied
            // to fresh memory at each step.
            nodes.reserve(parsed_models.len() + project.seeds.len());
            for parsed in parsed_models {
                match parsed {
                    Ok((node, node_warnings)) if node.config.enabled => {
                        warnings.extend(node_warnings);
                        nodes.push(node);
                    }
                    Ok((node, _)) => {
                        disabled.insert(node.name.clone(), node.original_file_path.clone().into());
                    }
                    // A folder config of the project file is every node's under it: say
                    // what is wrong with it once.
                    Err(d) if errors.0.contains(&d) => {}
                    Err(d) => errors.push(d),
                }
            }
            for seed in &project.seeds {
                match seed_node(project, target, env, &docs, seed) {
                    Ok(node) if node.config.enabled => nodes.push(node),
                    Ok(node) => {
                        disabled.insert(node.name.clone(), seed.path.clone());
                    }
                    Err(d) if errors.0.contains(&d) => {}
                    Err(d) => errors.push(d),
                }
            }
            for table in &project.sources {
                // A table whose values fail to render is kept as written, so that the
                // models reading it do not report it as unknown as well.
                let describer = Describer {
                    env,
                    docs: &docs,
                    package: &project.config.name,
                };
                let table = render_source_table(&describer, table).unwrap_or_else(|d| {
                    errors.push(d);
                    table.clone()
                });
                let source = source_node(&project.config.name, target, table);
                sources.insert(source.id.clone(), source);
            }
        }
        starts.push(nodes.len());

        let names = NameIndex::new(
            &root_package,
            nodes.iter().map(|n| {
                (
                    n.name.as_str(),
                    n.package.as_str(),
                    n.version_entry(),
                    n.id.clone(),
                )
            }),
        );
        // Tests are not ref-able: they join after the names are known.
        let mut tests = Vec::new();
        for (i, project) in projects.iter().enumerate() {
            let own = &nodes[starts[i]..starts[i + 1]];
            let own_sources: BTreeMap<NodeId, SourceNode> = sources
                .iter()
                .filter(|(_, s)| s.package() == project.config.name)
                .map(|(id, s)| (id.clone(), s.clone()))
                .collect();
            let parsed_tests = parse_tests(project, target, env, own, &own_sources);
            tests.reserve(parsed_tests.len());
            for parsed in parsed_tests {
                match parsed {
                    Ok(node) if node.config.enabled => tests.push(node),
                    Ok(_) => {}
                    Err(d) => errors.push(d),
                }
            }
        }
        nodes.reserve_exact(tests.len() + project.unit_tests.len());
        nodes.extend(tests);
        let access = AccessRules::new(project, &nodes);
        // On every core: each node's refs are looked up on its own.
        let resolved = mart_project::parallel_map(&nodes, |node| {
            let mut node_errors = Diagnostics::default();
            let depends_on = resolve_dependencies(
                node,
                (&names, &access),
                &disabled,
                &sources,
                &mut node_errors,
            );
            (depends_on, node_errors)
        });
        for (node, (depends_on, node_errors)) in nodes.iter_mut().zip(resolved) {
            node.depends_on = depends_on;
            errors.extend(node_errors);
        }
        let unit_tests = unit_test_nodes(
            &project.unit_tests,
            &root_package,
            &nodes,
            &names,
            &disabled,
            &sources,
        );
        for parsed in unit_tests {
            match parsed {
                Ok(node) if node.config.enabled => nodes.push(node),
                Ok(_) => {}
                Err(d) => errors.push(d),
            }
        }
        let mut exposures = BTreeMap::new();
        let mut macro_descriptions = BTreeMap::new();
        for project in &projects {
            let describer = Describer {
                env,
                docs: &docs,
                package: &project.config.name,
            };
            for m in &project.macro_properties {
                match describer.text(&m.file, &m.description) {
                    Ok(text) => {
                        let id = format!("macro.{}.{}", project.config.name, m.name);
                        macro_descriptions.insert(id, text);
                    }
                    Err(d) => errors.push(d),
                }
            }
            for exposure in exposure_nodes(
                project,
                &describer,
                (&names, &access),
                &disabled,
                &sources,
                &mut errors,
            ) {
                exposures.insert(exposure.id.clone(), exposure);
            }
        }
        let semantic = semantic_graph(
            &projects,
            &crate::semantic::Context {
                names: (&names, &access),
                disabled: &disabled,
                sources: &sources,
                nodes: &nodes,
                target,
            },
            &mut errors,
        );
        check_unique_relations(&nodes, &mut errors);
        warnings.extend(node_color_warnings(&nodes));
        warnings.extend(crate::versions::deprecation_warnings(
            &nodes,
            &crate::versions::today(),
        ));
        if errors.has_errors() {
            return Err(errors);
        }

        let nodes = NodeStore::new(nodes);
        let all: Vec<&Node> = nodes.values().collect();
        let mut graph_nodes = mart_project::parallel_map(&all, |n| n.graph_node());
        graph_nodes.extend(
            sources
                .values()
                .map(source_graph_node)
                .chain(exposures.values().map(ExposureNode::graph_node))
                .chain(semantic.nodes.values().map(SemanticNode::graph_node)),
        );
        let parts = ManifestParts {
            project_name: root_package,
            root: project.root.clone(),
            target_dir: project.root.join(&project.config.target_path),
            sources,
            exposures,
            semantic,
            docs: projects
                .iter()
                .flat_map(|p| p.docs.iter().cloned())
                .collect(),
            macro_descriptions,
            groups: projects
                .iter()
                .flat_map(|p| p.groups.iter().map(|g| (p.config.name.clone(), g.clone())))
                .collect(),
            warnings,
            on_run_start: project.config.on_run_start.clone(),
            on_run_end: project.config.on_run_end.clone(),
            project_file: project.config.file.path.clone(),
        };
        Manifest::assemble(parts, nodes, graph_nodes)
    }

    /// The manifest of its parts, its nodes and the graph nodes of them and of the
    /// sources (the nodes' in the store's order; the saved parse keeps them all sorted by
    /// id, so the graph needs no sorting). The DAG and the ref resolver are derived here,
    /// for a fresh parse and a saved one alike.
    pub(crate) fn assemble(
        parts: ManifestParts,
        nodes: NodeStore,
        graph_nodes: Vec<GraphNode>,
    ) -> Result<Manifest, Diagnostics> {
        let nodes = Arc::new(nodes);
        let by_name = names_to_positions(&parts.project_name, &graph_nodes);
        let dag =
            Dag::build(graph_nodes).map_err(|e| Diagnostics::from(graph_error(&e, &nodes)))?;
        let resolver = Arc::new(ManifestResolver::new(
            &parts.project_name,
            nodes.clone(),
            by_name,
            &parts.sources,
        ));
        Ok(Manifest {
            project_name: parts.project_name,
            root: parts.root,
            target_dir: parts.target_dir,
            nodes,
            sources: parts.sources,
            exposures: parts.exposures,
            semantic: parts.semantic,
            docs: parts.docs,
            macro_descriptions: parts.macro_descriptions,
            groups: parts.groups,
            dag,
            warnings: parts.warnings,
            on_run_start: parts.on_run_start,
            on_run_end: parts.on_run_end,
            project_file: parts.project_file,
            resolver,
        })
    }

    /// What [`Manifest::assemble`] needs besides the nodes and graph, which is what a
    /// saved parse keeps in its body.
    pub(crate) fn parts(&self) -> ManifestParts {
        ManifestParts {
            project_name: self.project_name.clone(),
            root: self.root.clone(),
            target_dir: self.target_dir.clone(),
            sources: self.sources.clone(),
            exposures: self.exposures.clone(),
            semantic: self.semantic.clone(),
            docs: self.docs.clone(),
            macro_descriptions: self.macro_descriptions.clone(),
            groups: self.groups.clone(),
            warnings: self.warnings.clone(),
            on_run_start: self.on_run_start.clone(),
            on_run_end: self.on_run_end.clone(),
            project_file: self.project_file.clone(),
        }
    }
}

/// A manifest without its nodes and its derived DAG and resolver.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct ManifestParts {
    pub project_name: String,
    pub root: PathBuf,
    pub target_dir: PathBuf,
    pub sources: BTreeMap<NodeId, SourceNode>,
    pub exposures: BTreeMap<NodeId, ExposureNode>,
    pub semantic: SemanticGraph,
    pub docs: Vec<DocBlock>,
    pub macro_descriptions: BTreeMap<String, String>,
    pub groups: Vec<(String, Group)>,
    pub warnings: Vec<Diagnostic>,
    pub on_run_start: Vec<String>,
    pub on_run_end: Vec<String>,
    pub project_file: PathBuf,
}

/// A source table with its database, schema and identifier rendered (dbt renders Jinja
/// such as `{{ target.schema }}_raw` in property files).
fn render_source_table(
    describer: &Describer<'_>,
    table: &SourceTable,
) -> Result<SourceTable, Diagnostic> {
    let render = |text: &str| describer.env.render_property(&table.file, text);
    let mut table = table.clone();
    table.database = table.database.as_deref().map(render).transpose()?;
    table.schema = render(&table.schema)?;
    table.identifier = render(&table.identifier)?;
    table.description = describer.text(&table.file, &table.description)?;
    table.source_description = describer.text(&table.file, &table.source_description)?;
    let columns: Arc<[ColumnProperties]> = table.columns.iter().cloned().collect();
    table.columns = describer.columns(&table.file, &columns)?.to_vec();
    Ok(table)
}

fn source_node(package: &str, target: &Target, table: SourceTable) -> SourceNode {
    let relation = Relation::new(
        Some(
            table
                .database
                .clone()
                .unwrap_or_else(|| target.dbname.clone()),
        ),
        table.schema.clone(),
        table.identifier.clone(),
    );
    SourceNode {
        id: NodeId::source(package, &table.source_name, &table.name),
        table,
        relation,
    }
}

/// The `target` Jinja variable. The password is left out on purpose.
fn target_value(target: &Target) -> serde_json::Value {
    serde_json::json!({
        "name": target.name,
        "target_name": target.name,
        "profile_name": target.profile_name,
        "type": target.adapter_type,
        "host": target.host,
        "port": target.port,
        "user": target.user,
        "dbname": target.dbname,
        "database": target.dbname,
        "schema": target.schema,
        "threads": target.threads,
    })
}

/// The `model` Jinja variable for a node.
pub(crate) fn model_value(
    node_id: &NodeId,
    (name, version): (&str, Option<&str>),
    resource_type: ResourceType,
    fqn: &[String],
    path: &str,
    config: &ConfigMap,
) -> serde_json::Value {
    serde_json::json!({
        "unique_id": node_id.as_str(),
        "name": name,
        "version": version,
        "resource_type": resource_type.as_str(),
        "package_name": fqn.first(),
        "fqn": fqn,
        "original_file_path": path,
        "path": path,
        "config": config,
    })
}

pub(crate) fn path_string(path: &std::path::Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Parse-renders the models, then the snapshots, on every core; results keep the
/// project's file order.
fn parse_models(
    project: &Loading,
    target: &Target,
    env: &JinjaEnv,
    docs: &Arc<DocLookup>,
) -> Vec<Result<(Node, Vec<Diagnostic>), Diagnostic>> {
    let describer = Describer {
        env,
        docs,
        package: &project.config.name,
    };
    let mut nodes = mart_project::parallel_map(&project.models, |m| {
        parse_sql_node(project, target, &describer, m, ResourceType::Model)
    });
    nodes.extend(mart_project::parallel_map(&project.snapshots, |s| {
        parse_sql_node(project, target, &describer, s, ResourceType::Snapshot)
    }));
    nodes.extend(mart_project::parallel_map(&project.analyses, |a| {
        parse_sql_node(project, target, &describer, a, ResourceType::Analysis)
    }));
    nodes
}

/// The parse render of a model or snapshot: its refs, sources and config() calls, with
/// the warnings about those calls.
fn parse_sql_node(
    project: &Loading,
    target: &Target,
    describer: &Describer<'_>,
    model: &mart_project::NodeFile,
    resource_type: ResourceType,
) -> Result<(Node, Vec<Diagnostic>), Diagnostic> {
    let env = describer.env;
    let package = &project.config.name;
    let id = NodeId::for_node(resource_type, package, &crate::versions::id_name(model));
    let version = model.version.as_deref();
    let (tree, properties, default_materialization): (fn(&ProjectConfig) -> &ConfigTree, _, _) =
        match resource_type {
            ResourceType::Snapshot => (
                |c| &c.snapshots,
                project.snapshot_properties.get(&model.name),
                "snapshot",
            ),
            _ => (
                |c| &c.models,
                match version {
                    Some(v) => Some(&v.properties),
                    None => project.model_properties.get(&model.name),
                },
                "view",
            ),
        };
    let layers = project.layers(tree, &model.fqn);
    let mut config = layered_config(env, &project.config.file, layers, properties)?;
    let path = project.relative_path(&model.file.path);
    let mut scope = RenderScope::new(Phase::Parse);
    scope.package = project.scope_package();
    scope.config = config.clone();
    let version_id = version.map(|v| v.v.as_str());
    scope.this = Some(Relation::new(
        Some(target.dbname.clone()),
        target.schema.clone(),
        crate::versions::default_alias(&model.name, version_id),
    ));
    scope.model = model_value(
        &id,
        (&model.name, version_id),
        resource_type,
        &model.fqn,
        &path,
        &config,
    );
    let scope = Arc::new(scope);
    env.render(&model.file, &scope)?;
    let mut recorded = scope.take_recorded();
    for layer in &recorded.configs {
        merge_into(&mut config, layer);
    }
    if resource_type == ResourceType::Model && !config.contains_key("access") {
        config.insert("access".into(), crate::access::DEFAULT_ACCESS.into());
    }
    let warnings = unknown_config_call_keys(&model.file, &recorded.configs);
    let valid = match resource_type {
        ResourceType::Model => Some(MODEL_MATERIALIZATIONS),
        ResourceType::Snapshot => Some(SNAPSHOT_MATERIALIZATIONS),
        // Analyses are compiled only: their materialization does nothing.
        _ => None,
    };
    let origins = ConfigOrigins {
        node_file: Some(&model.file),
        calls: &recorded.configs,
        properties,
        project_file: &project.config.file,
    };
    let config = NodeConfig::from_map(config.clone(), default_materialization)
        .map_err(|e| origins.config_error(&e, &config))?;
    // A disabled node is never built: its materialization does not matter.
    if let Some(valid) = valid.filter(|_| config.enabled) {
        // Models may also name a materialization block of the project or a package.
        let blocks = match resource_type {
            ResourceType::Model => env.materialization_names(),
            _ => &[],
        };
        origins.check_materialized(&config.raw, valid, blocks, resource_type.as_str())?;
    }
    crate::access::check_group_and_access(
        &origins,
        &config.raw,
        resource_type,
        &project.group_names,
    )?;
    if resource_type == ResourceType::Model {
        crate::contract::check_contract(&model.name, &model.file, &config, properties)?;
        crate::contract::add_constraint_parents(
            properties,
            &mut recorded.refs,
            &mut recorded.sources,
        );
    }
    let relation = relation_for(
        env,
        target,
        &id,
        (&model.name, version_id),
        resource_type,
        &model.fqn,
        &config,
    )
    .map(|r| folded_unquoted(r, &project.root.quoting))?;
    let (description, columns) = describer.node(properties)?;
    Ok((
        Node {
            id,
            name: model.name.clone(),
            resource_type,
            package: package.clone(),
            fqn: model.fqn.clone(),
            // dbt: a snapshot's path is its file's, under the snapshot folder; so is a
            // model version's.
            path: match resource_type {
                ResourceType::Snapshot => path
                    .split_once('/')
                    .map_or(path.clone(), |(_, p)| p.to_string()),
                _ if version.is_some() => {
                    let folders = &model.fqn[..model.fqn.len().saturating_sub(2)];
                    let mut parts = folders.to_vec();
                    parts.push(model.file_stem().to_string());
                    resource_path(&parts, "sql")
                }
                _ => resource_path(&model.fqn, "sql"),
            },
            original_file_path: path,
            file: Some(model.file.clone()),
            relation,
            description,
            columns,
            constraints: constraints_of(properties),
            depends_on: Vec::new(),
            refs: recorded.refs,
            source_calls: recorded.sources,
            depends_on_macros: recorded.macros,
            config: Box::new(config),
            test: None,
            unit_test: None,
            versioning: (resource_type == ResourceType::Model)
                .then(|| {
                    ModelVersioning::of(model, properties.and_then(|p| p.deprecation_date.as_ref()))
                })
                .flatten()
                .map(Box::new),
        },
        warnings,
    ))
}

/// dbt's `path` of a model or seed: the fqn's folders and name under the resource folder.
fn resource_path(fqn: &[String], extension: &str) -> String {
    format!("{}.{extension}", fqn.get(1..).unwrap_or_default().join("/"))
}

fn seed_node(
    project: &Loading,
    target: &Target,
    env: &JinjaEnv,
    docs: &Arc<DocLookup>,
    seed: &mart_project::SeedFile,
) -> Result<Node, Diagnostic> {
    let package = &project.config.name;
    let id = NodeId::for_node(ResourceType::Seed, package, &seed.name);
    let properties = project.seed_properties.get(&seed.name);
    let layers = project.layers(|c| &c.seeds, &seed.fqn);
    let config = layered_config(env, &project.config.file, layers, properties)?;
    let origins = ConfigOrigins {
        node_file: None,
        calls: &[],
        properties,
        project_file: &project.config.file,
    };
    crate::access::check_group_and_access(
        &origins,
        &config,
        ResourceType::Seed,
        &project.group_names,
    )?;
    let config = NodeConfig::from_map(config.clone(), "seed")
        .map_err(|e| origins.config_error(&e, &config))?;
    let relation = relation_for(
        env,
        target,
        &id,
        (&seed.name, None),
        ResourceType::Seed,
        &seed.fqn,
        &config,
    )
    .map(|r| folded_unquoted(r, &project.root.quoting))?;
    let describer = Describer { env, docs, package };
    let (description, columns) = describer.node(properties)?;
    Ok(Node {
        id,
        name: seed.name.clone(),
        resource_type: ResourceType::Seed,
        package: package.clone(),
        fqn: seed.fqn.clone(),
        original_file_path: project.relative_path(&seed.path),
        path: resource_path(&seed.fqn, "csv"),
        file: None,
        relation,
        description,
        columns,
        constraints: constraints_of(properties),
        depends_on: Vec::new(),
        refs: Vec::new(),
        source_calls: Vec::new(),
        depends_on_macros: Vec::new(),
        config: Box::new(config),
        test: None,
        unit_test: None,
        versioning: None,
    })
}

/// The config a node has before its own file speaks: project folder configs (shallow to
/// deep, their Jinja rendered as dbt renders dbt_project.yml, hooks left for run time),
/// then its property file entry.
pub(crate) fn layered_config(
    env: &JinjaEnv,
    project_file: &Arc<SourceFile>,
    layers: Vec<ConfigMap>,
    properties: Option<&mart_project::NodeProperties>,
) -> Result<ConfigMap, Diagnostic> {
    let mut config = ConfigMap::new();
    for layer in layers {
        merge_into(&mut config, &rendered_configs(env, project_file, &layer)?);
    }
    if let Some(p) = properties {
        merge_into(&mut config, &rendered_configs(env, &p.file, &p.config)?);
    }
    Ok(config)
}

/// `layer` with the Jinja of its values rendered (hooks are left for run time).
pub(crate) fn rendered_configs(
    env: &JinjaEnv,
    file: &Arc<SourceFile>,
    layer: &ConfigMap,
) -> Result<ConfigMap, Diagnostic> {
    let mut layer = layer.clone();
    for (_, value) in layer
        .iter_mut()
        .filter(|(k, _)| !matches!(k.as_str(), "pre_hook" | "post_hook"))
    {
        render_config_value(env, file, value)?;
    }
    Ok(layer)
}

/// Renders the Jinja in a project-file config value (`"{{ var('load', false) }}"`); a
/// rendered `true`/`false`/`none` becomes that value, as dbt's native rendering gives.
fn render_config_value(
    env: &JinjaEnv,
    file: &Arc<SourceFile>,
    value: &mut serde_json::Value,
) -> Result<(), Diagnostic> {
    match value {
        serde_json::Value::String(text) if text.contains("{{") || text.contains("{%") => {
            let rendered = env.render_property(file, text)?;
            *value = match rendered.trim() {
                t if t.eq_ignore_ascii_case("true") => serde_json::Value::Bool(true),
                t if t.eq_ignore_ascii_case("false") => serde_json::Value::Bool(false),
                t if t.eq_ignore_ascii_case("none") => serde_json::Value::Null,
                _ => serde_json::Value::String(rendered),
            };
        }
        serde_json::Value::Array(items) => {
            for item in items {
                render_config_value(env, file, item)?;
            }
        }
        serde_json::Value::Object(map) => {
            for item in map.values_mut() {
                render_config_value(env, file, item)?;
            }
        }
        _ => {}
    }
    Ok(())
}

pub(crate) fn config_error(file: &Arc<SourceFile>, e: &mart_project::ConfigError) -> Diagnostic {
    config_error_at(file, &e.key, e.to_string())
}

/// A config problem pointing at the first mention of `key` in the node's file (or at
/// the file), with where configs can be fixed.
pub fn config_error_at(file: &Arc<SourceFile>, key: &str, message: String) -> Diagnostic {
    let key = key.split('.').next().unwrap_or(key);
    let span = file
        .text
        .find(key)
        .map(|i| Span::new(file.clone(), i..i + key.len()));
    let d = Diagnostic::error(Code::Config, message).with_help(format!(
        "fix '{key}' in config(), the property file, or the project file's folder config"
    ));
    match span {
        Some(span) => d.with_span(span),
        None => d.with_path(&file.path),
    }
}

/// The relation as PostgreSQL resolves it when the project's `quoting:` leaves parts of
/// it unquoted: those parts fold to lower case, so the quoted names mart writes name the
/// same relation dbt's unquoted ones do.
pub(crate) fn folded_unquoted(relation: Relation, quoting: &mart_project::Quoting) -> Relation {
    let fold = |quoted: bool, part: String| if quoted { part } else { part.to_lowercase() };
    Relation::new(
        relation.database.map(|d| fold(quoting.database, d)),
        fold(quoting.schema, relation.schema),
        fold(quoting.identifier, relation.identifier),
    )
}

/// Schema and alias through generate_schema_name / generate_alias_name: the project's
/// macros when it defines them, else dbt's defaults.
pub(crate) fn relation_for(
    env: &JinjaEnv,
    target: &Target,
    id: &NodeId,
    (name, version): (&str, Option<&str>),
    resource_type: ResourceType,
    fqn: &[String],
    config: &NodeConfig,
) -> Result<Relation, Diagnostic> {
    // A snapshot's legacy `target_schema` / `target_database` name the place verbatim.
    let legacy = |key: &str| match config.raw.get(key) {
        Some(serde_json::Value::String(s)) if resource_type == ResourceType::Snapshot => {
            Some(s.trim().to_string())
        }
        _ => None,
    };
    if let Some(schema) = legacy("target_schema") {
        let database = legacy("target_database")
            .or_else(|| config.database.clone())
            .unwrap_or_else(|| target.dbname.clone());
        let identifier = config.alias.clone().unwrap_or_else(|| name.to_string());
        return Ok(Relation::new(Some(database), schema, identifier));
    }
    let custom_schema = config.schema.as_deref().map(str::trim);
    // dbt's own naming macros give what is computed natively below; a project's own
    // version is rendered for every node.
    let schema_macro = !env.is_builtin_macro("generate_schema_name");
    let alias_macro = !env.is_builtin_macro("generate_alias_name");
    let needs_macro = schema_macro || alias_macro;
    let scope = needs_macro.then(|| {
        let mut scope = RenderScope::new(Phase::Parse);
        scope.config = config.raw.clone();
        scope.model = model_value(id, (name, version), resource_type, fqn, "", &config.raw);
        Arc::new(scope)
    });
    let node_value = || Value::from_serialize(scope.as_ref().map(|s| &s.model));
    let schema = match &scope {
        Some(scope) if schema_macro => env.render_expression(
            "generate_schema_name(custom_schema_name, node)",
            &[
                ("custom_schema_name", Value::from(custom_schema)),
                ("node", node_value()),
            ],
            scope,
        )?,
        _ => match custom_schema {
            None | Some("") => target.schema.clone(),
            Some(custom) => format!("{}_{custom}", target.schema),
        },
    };
    let identifier = match &scope {
        Some(scope) if alias_macro => env.render_expression(
            "generate_alias_name(custom_alias_name, node)",
            &[
                ("custom_alias_name", Value::from(config.alias.clone())),
                ("node", node_value()),
            ],
            scope,
        )?,
        _ => config
            .alias
            .clone()
            .unwrap_or_else(|| crate::versions::default_alias(name, version)),
    };
    let database = legacy("target_database")
        .or_else(|| config.database.clone())
        .unwrap_or_else(|| target.dbname.clone());
    Ok(Relation::new(Some(database), schema, identifier))
}

fn resolve_dependencies(
    node: &Node,
    names: Names<'_>,
    disabled: &HashMap<String, PathBuf>,
    sources: &BTreeMap<NodeId, SourceNode>,
    errors: &mut Diagnostics,
) -> Vec<NodeId> {
    let Some(file) = &node.file else {
        return Vec::new();
    };
    let dependent = Dependent {
        id: &node.id,
        name: &node.name,
        package: &node.package,
        group: node.group(),
        attached: node.test.as_ref().and_then(|t| t.attached_node.as_ref()),
        file,
        refs: &node.refs,
        source_calls: &node.source_calls,
    };
    resolve_calls(&dependent, names, disabled, sources, errors)
}

/// What refs and sources: a node, or an exposure.
pub(crate) struct Dependent<'a> {
    pub id: &'a NodeId,
    pub name: &'a str,
    pub package: &'a str,
    /// Its `group:`; a test's is its node's (`attached`).
    pub group: Option<&'a str>,
    pub attached: Option<&'a NodeId>,
    /// Where the calls are written.
    pub file: &'a Arc<SourceFile>,
    pub refs: &'a [RefCall],
    pub source_calls: &'a [SourceCall],
}

/// The parents that `ref()` and `source()` calls name; unknown or disabled ones are
/// errors at the call, with the closest name.
/// The ref-able names, and who may ref what.
pub(crate) type Names<'a> = (&'a NameIndex<NodeId>, &'a AccessRules);

pub(crate) fn resolve_calls(
    node: &Dependent<'_>,
    (names, access): Names<'_>,
    disabled: &HashMap<String, PathBuf>,
    sources: &BTreeMap<NodeId, SourceNode>,
    errors: &mut Diagnostics,
) -> Vec<NodeId> {
    let mut parents = Vec::new();
    let file = node.file;
    let referrer = Referrer {
        id: node.id,
        package: node.package,
        group: node.group,
        attached: node.attached,
    };
    for call in node.refs {
        let version = call.version.as_deref();
        let found = names.find(call.package.as_deref(), &call.name, version, node.package);
        let at_ref = |code, message| located_ref(file, call, code, message);
        match found {
            Some(id) if id == node.id => errors.push(
                at_ref(Code::Cycle, format!("model '{}' refs itself", node.name))
                    .with_help("use {{ this }} to refer to the model's own relation"),
            ),
            Some(id) => match access.violation(&referrer, id) {
                Some((message, help)) => {
                    errors.push(at_ref(Code::RefAccess, message).with_help(help))
                }
                None => parents.push(id.clone()),
            },
            None if disabled.contains_key(&call.name) => errors.push(
                at_ref(
                    Code::DisabledRef,
                    format!("'{}' refs '{}', which is disabled", node.name, call.name),
                )
                .with_help(format!(
                    "enable '{}' (config enabled: true) or remove this ref",
                    call.name
                )),
            ),
            None if version.is_some()
                && names
                    .find(call.package.as_deref(), &call.name, None, node.package)
                    .is_some() =>
            {
                let versions = names.versions(call.package.as_deref(), &call.name, node.package);
                let (message, help) = match versions.as_slice() {
                    [] => (
                        format!(
                            "'{}' refs version {} of '{}', which has no versions",
                            node.name,
                            version.unwrap_or_default(),
                            call.name
                        ),
                        format!("remove the version: ref('{}')", call.name),
                    ),
                    known => (
                        format!(
                            "'{}' refs version {} of '{}', which has versions {}",
                            node.name,
                            version.unwrap_or_default(),
                            call.name,
                            known.join(", ")
                        ),
                        format!(
                            "ref one of them, as in ref('{}', v={}), or add the version to its property file",
                            call.name,
                            known.last().copied().unwrap_or_default()
                        ),
                    ),
                };
                errors.push(at_ref(Code::UnknownRef, message).with_help(help));
            }
            None => {
                let written = match &call.package {
                    Some(p) => format!("{p}.{}", call.name),
                    None => call.name.clone(),
                };
                let d = at_ref(Code::UnknownRef, format!("unknown ref '{written}'"));
                // ref('pkg', 'orders') when 'orders' is another package's, or the
                // project's own.
                let elsewhere = call.package.is_some()
                    && names.find(None, &call.name, None, node.package).is_some();
                let help = match closest_name(&call.name, names.names()) {
                    _ if elsewhere => format!(
                        "'{}' is not in package '{}'; did you mean ref('{}')?",
                        call.name,
                        call.package.as_deref().unwrap_or_default(),
                        call.name
                    ),
                    Some(s) => format!("did you mean '{s}'?"),
                    None => "add a model or seed with this name, or fix the name".into(),
                };
                errors.push(d.with_help(help));
            }
        }
    }
    for call in node.source_calls {
        match find_source(sources, call, node.package) {
            Some(id) => parents.push(id.clone()),
            None => {
                let known: Vec<String> = sources
                    .values()
                    .map(|s| format!("{}.{}", s.table.source_name, s.table.name))
                    .collect();
                let wanted = format!("{}.{}", call.source, call.table);
                let d = located(
                    file,
                    "source",
                    &[call.source.as_str(), call.table.as_str()],
                    Code::UnknownSource,
                    format!("unknown source '{wanted}'"),
                );
                errors.push(
                    match closest_name(&wanted, known.iter().map(String::as_str)) {
                        Some(s) => d.with_help(format!("did you mean '{s}'?")),
                        None => d.with_help("declare it under sources: in a property file"),
                    },
                );
            }
        }
    }
    parents.sort();
    parents.dedup();
    parents
}

/// The source a `source()` call names: its own package's, else any package's.
pub(crate) fn find_source<'a>(
    sources: &'a BTreeMap<NodeId, SourceNode>,
    call: &SourceCall,
    package: &str,
) -> Option<&'a NodeId> {
    let mut matching = sources
        .values()
        .filter(|s| s.table.source_name == call.source && s.table.name == call.table);
    let first = matching.next()?;
    Some(
        std::iter::once(first)
            .chain(matching)
            .find(|s| s.package() == package)
            .unwrap_or(first),
    )
    .map(|s| &s.id)
}

/// A diagnostic at the `ref()` call in the file (its version too), or at the file when
/// the call is dynamic.
fn located_ref(file: &Arc<SourceFile>, call: &RefCall, code: Code, message: String) -> Diagnostic {
    let d = Diagnostic::error(code, message);
    match crate::locate::locate_ref(&file.text, &call.name, call.version.as_deref()) {
        Some(range) => d.with_span(Span::new(file.clone(), range)),
        None => d.with_path(&file.path),
    }
}

/// A diagnostic at the call in the file, or at the file when the call is dynamic.
fn located(
    file: &Arc<SourceFile>,
    func: &str,
    args: &[&str],
    code: Code,
    message: String,
) -> Diagnostic {
    let d = Diagnostic::error(code, message);
    match locate_call(&file.text, func, args) {
        Some(range) => d.with_span(Span::new(file.clone(), range)),
        None => d.with_path(&file.path),
    }
}

/// Two nodes must not build the same relation (aliases can collide).
fn check_unique_relations(nodes: &[Node], errors: &mut Diagnostics) {
    let mut seen: HashMap<(&str, &str), &Node> = HashMap::new();
    // Tests and analyses build no relation of their own.
    for node in nodes.iter().filter(|n| {
        n.config.materialized != Materialization::Ephemeral
            && !matches!(
                n.resource_type,
                ResourceType::Test | ResourceType::UnitTest | ResourceType::Analysis
            )
    }) {
        let key = (
            node.relation.schema.as_str(),
            node.relation.identifier.as_str(),
        );
        if let Some(first) = seen.insert(key, node) {
            errors.push(
                Diagnostic::error(
                    Code::DuplicateNode,
                    format!(
                        "'{}' and '{}' would both build {}",
                        first.name, node.name, node.relation
                    ),
                )
                .with_path(&node.original_file_path)
                .with_help("give one of them another alias or schema"),
            );
        }
    }
}

fn graph_error(e: &GraphError, nodes: &NodeStore) -> Diagnostic {
    let mut d = e.to_diagnostic();
    if let GraphError::Cycle { path } = e {
        // Point at each ref() that closes the loop: child refs parent.
        for pair in path.windows(2) {
            let (parent, child) = (&pair[0], &pair[1]);
            let (Some(parent), Some(child)) = (nodes.get(parent), nodes.get(child)) else {
                continue;
            };
            let Some(file) = &child.file else { continue };
            let Some(range) = locate_call(&file.text, "ref", &[parent.name.as_str()]) else {
                continue;
            };
            let span = Span::new(file.clone(), range);
            if d.span.is_none() {
                d = d.with_span(span);
            } else {
                d = d.with_label(
                    span,
                    format!("'{}' refs '{}' here", child.name, parent.name),
                );
            }
        }
        d = d.with_help("remove one of these ref()s so that no model depends on itself");
        d.message = format!(
            "dependency cycle: {}",
            path.iter()
                .map(|id| nodes.get(id).map_or(id.as_str(), |n| n.name.as_str()))
                .collect::<Vec<_>>()
                .join(" -> ")
        );
    }
    d
}

fn source_graph_node(source: &SourceNode) -> GraphNode {
    GraphNode {
        id: source.id.clone(),
        name: source.table.name.clone(),
        resource_type: ResourceType::Source,
        package: source
            .id
            .as_str()
            .split('.')
            .nth(1)
            .unwrap_or_default()
            .to_string(),
        original_file_path: path_string(&source.table.file.path),
        fqn: vec![
            source
                .id
                .as_str()
                .split('.')
                .nth(1)
                .unwrap_or_default()
                .to_string(),
            source.table.source_name.clone(),
            source.table.name.clone(),
        ],
        tags: source.table.tags.clone(),
        materialized: None,
        source_name: Some(source.table.source_name.clone()),
        config: flat_config(&source.table.config),
        depends_on: Vec::new(),
        test_type: None,
        test_name: None,
        version: None,
    }
}

/// Scalar configs as strings, for `config.<key>:<value>` selection.
pub(crate) fn flat_config(config: &ConfigMap) -> FlatConfig {
    let scalars: Vec<(&str, String)> = config
        .iter()
        .filter_map(|(k, v)| {
            let s = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => return None,
            };
            Some((k.as_str(), s))
        })
        .collect();
    FlatConfig::new(scalars.iter().map(|(k, v)| (*k, v.as_str())))
}

/// Model, seed and snapshot names -> their position in the node store (tests are not
/// ref-able). The graph nodes that are not sources are in the store's order.
fn names_to_positions(root: &str, graph_nodes: &[GraphNode]) -> NameIndex<u32> {
    NameIndex::new(
        root,
        graph_nodes
            .iter()
            .filter(|n| !n.resource_type.is_graph_only())
            .enumerate()
            .filter(|(_, n)| {
                !matches!(n.resource_type, ResourceType::Test | ResourceType::UnitTest)
            })
            .map(|(i, n)| {
                let version = n.version.as_ref().map(|v| {
                    let latest = v.status == mart_graph::VersionStatus::Latest;
                    (v.version.as_str(), latest)
                });
                (n.name.as_str(), n.package.as_str(), version, i as u32)
            }),
    )
}

/// ref()/source() resolution in the compile phase. A ref reads its parent's node from
/// the store, so resolving reads only the nodes that are ref'd.
pub(crate) struct ManifestResolver {
    root: String,
    nodes: Arc<NodeStore>,
    by_name: NameIndex<u32>,
    sources: HashMap<(String, String), Relation>,
    /// The source tables with an `event_time` config, and its column.
    source_event_times: HashMap<(String, String), String>,
    /// `--defer`: refs to these nodes read the state's relations instead.
    deferred: std::sync::OnceLock<HashMap<NodeId, Relation>>,
}

impl ManifestResolver {
    fn new(
        root: &str,
        nodes: Arc<NodeStore>,
        by_name: NameIndex<u32>,
        sources: &BTreeMap<NodeId, SourceNode>,
    ) -> Self {
        let source_event_times = sources
            .values()
            .filter_map(|s: &SourceNode| {
                let field = s.table.config.get("event_time")?.as_str()?;
                Some((
                    (s.table.source_name.clone(), s.table.name.clone()),
                    field.to_string(),
                ))
            })
            .collect();
        let sources = sources
            .values()
            .map(|s| {
                (
                    (s.table.source_name.clone(), s.table.name.clone()),
                    s.relation.clone(),
                )
            })
            .collect();
        Self {
            root: root.to_string(),
            nodes,
            by_name,
            sources,
            source_event_times,
            deferred: std::sync::OnceLock::new(),
        }
    }

    fn position(&self, call: &RefCall, from_package: Option<&str>) -> Option<usize> {
        let from = from_package.unwrap_or(&self.root);
        self.by_name
            .find(
                call.package.as_deref(),
                &call.name,
                call.version.as_deref(),
                from,
            )
            .map(|&i| i as usize)
    }

    pub(crate) fn node_for(&self, call: &RefCall, from_package: Option<&str>) -> Option<&NodeId> {
        self.nodes.id_at(self.position(call, from_package)?)
    }
}

/// dbt's name for an ephemeral model's CTE, kept so compiled SQL reads the same.
pub(crate) fn cte_name(model: &str) -> String {
    format!("__dbt__cte__{model}")
}

impl Resolver for ManifestResolver {
    fn resolve_ref(&self, call: &RefCall, from_package: Option<&str>) -> Option<ResolvedRef> {
        let node = self.nodes.at(self.position(call, from_package)?)?;
        let deferred = self.deferred.get().and_then(|d| d.get(&node.id));
        Some(if node.config.materialized == Materialization::Ephemeral {
            ResolvedRef::Ephemeral {
                cte_name: cte_name(&node.name),
            }
        } else if let Some(relation) = deferred {
            ResolvedRef::Relation(relation.clone())
        } else {
            ResolvedRef::Relation(node.relation.clone())
        })
    }

    fn resolve_source(&self, call: &SourceCall) -> Option<Relation> {
        self.sources
            .get(&(call.source.clone(), call.table.clone()))
            .cloned()
    }

    fn ref_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.by_name.names().map(str::to_string).collect();
        names.sort();
        names
    }

    fn ref_event_time(&self, call: &RefCall, from_package: Option<&str>) -> Option<String> {
        let node = self.nodes.at(self.position(call, from_package)?)?;
        node.config.string("event_time").ok().flatten()
    }

    fn source_event_time(&self, call: &SourceCall) -> Option<String> {
        self.source_event_times
            .get(&(call.source.clone(), call.table.clone()))
            .cloned()
    }
}

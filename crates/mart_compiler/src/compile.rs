//! The compile render: a node's SQL with relations resolved and ephemerals injected.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic, SourceFile};
use mart_graph::{NodeId, ResourceType};
use mart_jinja::{BatchWindow, JinjaEnv, Phase, QueryRunner, RenderScope, UnitTestRender};
use mart_project::Materialization;

use crate::inject::inject_ctes;
use crate::manifest::{cte_name, model_value, Manifest, Node};
use crate::unit_tests::{fixture_cte_name, FixtureResolver};

/// A node's SQL as it will run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompiledNode {
    pub id: NodeId,
    pub sql: String,
    /// The node's own SQL before ephemeral models were injected, when any were (static
    /// analysis reads it: its offsets are the template's).
    pub rendered: Option<String>,
    /// Messages from log()/print() during the render.
    pub logs: Vec<String>,
}

/// What a run-operation macro call did.
#[derive(Debug)]
pub struct MacroRun {
    /// Messages from log()/print(), in order.
    pub logs: Vec<String>,
    pub result: Result<(), Diagnostic>,
}

/// Compiles nodes of one manifest. `query_runner` serves run_query() and adapter calls.
pub struct Compiler<'a> {
    pub(crate) manifest: &'a Manifest,
    pub(crate) env: &'a JinjaEnv,
    query_runner: Option<Arc<dyn QueryRunner>>,
    empty_inputs: bool,
    batch: Option<BatchWindow>,
}

struct Rendered {
    sql: String,
    /// Ephemeral models this SQL refs directly.
    ephemerals: Vec<NodeId>,
    logs: Vec<String>,
}

impl<'a> Compiler<'a> {
    pub fn new(
        manifest: &'a Manifest,
        env: &'a JinjaEnv,
        query_runner: Option<Arc<dyn QueryRunner>>,
    ) -> Self {
        Self {
            manifest,
            env,
            query_runner,
            empty_inputs: false,
            batch: None,
        }
    }

    /// `--empty`: refs and sources compile to zero-row subqueries of their relations, so
    /// a build creates every relation with its columns and reads no data.
    pub fn with_empty_inputs(self, empty_inputs: bool) -> Self {
        Self {
            empty_inputs,
            ..self
        }
    }

    /// A microbatch model's batch: its refs and sources with an `event_time` compile to
    /// the batch's rows (dbt filters those of microbatch models only, not of the
    /// ephemerals they read).
    pub fn with_batch(self, batch: Option<BatchWindow>) -> Self {
        Self { batch, ..self }
    }

    /// Compiles one model: renders it, then every ephemeral it reaches (recursively),
    /// and injects those as CTEs, deepest first.
    pub fn compile(&self, id: &NodeId, is_incremental: bool) -> Result<CompiledNode, Diagnostic> {
        let rendered = self.render(id, is_incremental)?;
        self.with_ephemerals(id.clone(), rendered)
    }

    /// Compiles SQL that is no node of the project (`--inline`), in the project's context:
    /// ref() and source() resolve, ephemerals become CTEs. Its id is dbt's
    /// `sql_operation.<project>.inline_query`.
    pub fn compile_inline(&self, file: &Arc<SourceFile>) -> Result<CompiledNode, Diagnostic> {
        let scope = Arc::new(self.scope(None, false));
        let sql = self.env.render(file, &scope)?;
        let recorded = scope.take_recorded();
        let rendered = Rendered {
            sql,
            ephemerals: self.ephemerals_of(&recorded.refs, None),
            logs: recorded.logs,
        };
        let id = NodeId::new(format!(
            "sql_operation.{}.inline_query",
            self.manifest.project_name
        ));
        self.with_ephemerals(id, rendered)
    }

    /// `rendered` with every ephemeral it reaches (recursively) injected as CTEs, deepest
    /// first.
    fn with_ephemerals(&self, id: NodeId, rendered: Rendered) -> Result<CompiledNode, Diagnostic> {
        let mut cache: HashMap<NodeId, Rendered> = HashMap::new();
        let mut order = Vec::new();
        let mut visiting = HashSet::new();
        for dep in &rendered.ephemerals {
            self.visit_ephemeral(dep, &mut cache, &mut order, &mut visiting)?;
        }
        let mut logs = rendered.logs;
        let ctes: Vec<(String, String)> = order
            .iter()
            .filter_map(|dep| {
                let r = cache.get(dep)?;
                logs.extend(r.logs.iter().cloned());
                let name = self
                    .manifest
                    .node(dep)
                    .map_or_else(|| dep.to_string(), |n| cte_name(&n.name));
                Some((name, r.sql.clone()))
            })
            .collect();
        let sql = inject_ctes(&rendered.sql, &ctes);
        Ok(CompiledNode {
            id,
            rendered: (!ctes.is_empty()).then_some(rendered.sql),
            sql,
            logs,
        })
    }

    fn visit_ephemeral(
        &self,
        id: &NodeId,
        cache: &mut HashMap<NodeId, Rendered>,
        order: &mut Vec<NodeId>,
        visiting: &mut HashSet<NodeId>,
    ) -> Result<(), Diagnostic> {
        if cache.contains_key(id) || !visiting.insert(id.clone()) {
            return Ok(());
        }
        let rendered = self.render(id, false)?;
        for dep in &rendered.ephemerals {
            self.visit_ephemeral(dep, cache, order, visiting)?;
        }
        cache.insert(id.clone(), rendered);
        order.push(id.clone());
        Ok(())
    }

    /// A node's SQL as its template renders, ephemerals not injected.
    pub(crate) fn render_own_sql(&self, id: &NodeId) -> Result<String, Diagnostic> {
        self.render(id, false).map(|rendered| rendered.sql)
    }

    fn render(&self, id: &NodeId, is_incremental: bool) -> Result<Rendered, Diagnostic> {
        let node = self.manifest.node(id).ok_or_else(|| {
            Diagnostic::error(
                Code::UnknownRef,
                format!("'{id}' is not a node of this project"),
            )
        })?;
        if node.unit_test.is_some() {
            return Err(Diagnostic::error(
                Code::UnknownRef,
                format!(
                    "unit test '{}' compiles only with its given rows",
                    node.name
                ),
            )
            .with_help("run it with mart test or mart build"));
        }
        let template = node.test.as_ref().and_then(|t| t.template.as_ref());
        let Some(file) = template.or(node.file.as_ref()) else {
            return Err(Diagnostic::error(
                Code::UnknownRef,
                format!("'{}' has no SQL to compile", node.name),
            ));
        };
        let scope = Arc::new(self.scope(Some(node), is_incremental));
        let sql = self.env.render(file, &scope)?;
        let recorded = scope.take_recorded();
        Ok(Rendered {
            sql,
            ephemerals: self.ephemerals_of(&recorded.refs, scope.package.as_deref()),
            logs: recorded.logs,
        })
    }

    /// The ephemeral models among the nodes `refs` name, in first-use order.
    fn ephemerals_of(&self, refs: &[mart_jinja::RefCall], package: Option<&str>) -> Vec<NodeId> {
        let mut ephemerals: Vec<NodeId> = Vec::new();
        for call in refs {
            let Some(dep) = self.manifest.resolver.node_for(call, package) else {
                continue;
            };
            let is_ephemeral = self
                .manifest
                .node(dep)
                .is_some_and(|n| n.config.materialized == Materialization::Ephemeral);
            if is_ephemeral && !ephemerals.contains(dep) {
                ephemerals.push(dep.clone());
            }
        }
        ephemerals
    }

    /// The compile-phase scope of `node` (or of the project, for on-run hooks).
    pub(crate) fn scope(&self, node: Option<&Node>, is_incremental: bool) -> RenderScope {
        let mut scope = RenderScope::new(Phase::Compile);
        scope.resolver = Some(self.manifest.resolver.clone());
        scope.query_runner = self.query_runner.clone();
        scope.empty_inputs = self.empty_inputs;
        if let Some(node) = node {
            scope.package =
                (node.package != self.manifest.project_name).then(|| node.package.clone());
            scope.config = node.config.raw.clone();
            scope.this = Some(node.relation.clone());
            scope.is_incremental = is_incremental;
            if node.config.is_microbatch() {
                scope.batch = self.batch.clone();
            }
            scope.model = model_value(
                &node.id,
                (&node.name, node.version()),
                node.resource_type,
                &node.fqn,
                &node.original_file_path,
                &node.config.raw,
            );
        }
        scope
    }

    /// Renders a hook's SQL (`pre_hook`, `post_hook`, `on-run-start`, ...): in the context
    /// of node `id` (`this` is its relation), or of the project when `id` is `None`, with
    /// extra `variables` (on-run-end's `results`, ...).
    pub fn render_hook(
        &self,
        id: Option<&NodeId>,
        hook: &Arc<SourceFile>,
        variables: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<String, Diagnostic> {
        let node = id.and_then(|id| self.manifest.node(id));
        let mut scope = self.scope(node, false);
        scope.variables = variables.clone();
        let scope = Arc::new(scope);
        self.env.render(hook, &scope)
    }

    /// Calls the project macro `name` with keyword arguments outside any node (`mart
    /// run-operation`): ref(), source(), run_query() and statement blocks work as in a
    /// model. The messages it logged are kept even when it fails half-way.
    pub fn run_macro(
        &self,
        name: &str,
        args: &serde_json::Map<String, serde_json::Value>,
    ) -> MacroRun {
        let scope = Arc::new(self.scope(None, false));
        let result = self.env.call_macro(name, args, &scope);
        MacroRun {
            logs: scope.take_recorded().logs,
            result,
        }
    }

    /// Unit test `id`'s model rendered with the test's overrides, each given input read
    /// from a CTE of `inputs[i]` (the SQL of its rows, in `given:` order) injected before
    /// the model's own SQL.
    pub fn compile_unit_test(
        &self,
        id: &NodeId,
        inputs: &[String],
    ) -> Result<CompiledNode, Diagnostic> {
        let unit = self
            .manifest
            .node(id)
            .and_then(|n| n.unit_test.as_deref())
            .ok_or_else(|| {
                Diagnostic::error(Code::UnknownRef, format!("'{id}' is not a unit test"))
            })?;
        let model = self.manifest.node(&unit.model).ok_or_else(|| {
            Diagnostic::error(
                Code::UnknownRef,
                format!("'{}' is not a node of this project", unit.model),
            )
        })?;
        let Some(file) = &model.file else {
            return Err(Diagnostic::error(
                Code::UnknownRef,
                format!("'{}' has no SQL to compile", model.name),
            ));
        };
        let mut resolver = FixtureResolver {
            inner: self.manifest.resolver.clone(),
            refs: HashMap::new(),
            sources: HashMap::new(),
        };
        let mut overrides = UnitTestRender {
            vars: unit.overrides.vars.clone(),
            env_vars: unit.overrides.env_vars.clone(),
            this_cte: None,
        };
        let mut ctes = Vec::with_capacity(unit.given.len());
        for (given, sql) in unit.given.iter().zip(inputs) {
            let name = fixture_cte_name(given, &self.manifest.sources);
            match given
                .node
                .as_ref()
                .map(|n| (n, self.manifest.sources.get(n)))
            {
                None => overrides.this_cte = Some(name.clone()),
                Some((_, Some(source))) => {
                    resolver.sources.insert(
                        (source.table.source_name.clone(), source.table.name.clone()),
                        name.clone(),
                    );
                }
                Some((node, None)) => {
                    resolver.refs.insert(node.clone(), name.clone());
                }
            }
            ctes.push((name, sql.clone()));
        }
        let mut scope = self.scope(Some(model), unit.is_incremental);
        scope.resolver = Some(Arc::new(resolver));
        scope.unit_test = Some(overrides);
        let scope = Arc::new(scope);
        let sql = self.env.render(file, &scope)?;
        Ok(CompiledNode {
            id: id.clone(),
            sql: inject_ctes(&sql, &ctes),
            rendered: None,
            logs: scope.take_recorded().logs,
        })
    }

    /// Compiles many nodes on every core, handing each to `then` in the worker that
    /// compiled it (writing thousands of files one after the other afterwards was a fifth
    /// of compiling a large project); results in the order given.
    pub fn compile_all(
        &self,
        ids: &[NodeId],
        then: impl Fn(&CompiledNode) -> Result<(), Diagnostic> + Sync,
    ) -> Vec<Result<CompiledNode, Diagnostic>> {
        mart_project::parallel_map(ids, |id| {
            let compiled = self.compile(id, false)?;
            then(&compiled)?;
            Ok(compiled)
        })
    }
}

impl Manifest {
    /// Where a node's compiled SQL goes: target/compiled/<package>/<path>.
    pub fn compiled_path(&self, id: &NodeId) -> Option<PathBuf> {
        self.artifact_path("compiled", id)
    }

    /// Where the SQL a run executed for a node goes: target/run/<package>/<path>.
    pub fn run_path(&self, id: &NodeId) -> Option<PathBuf> {
        self.artifact_path("run", id)
    }

    fn artifact_path(&self, kind: &str, id: &NodeId) -> Option<PathBuf> {
        let node = self.node(id)?;
        let base = self.target_dir.join(kind).join(&node.package);
        Some(match node.resource_type {
            // One file can define several snapshots (or a property file a YAML one).
            ResourceType::Snapshot => {
                let file = Path::new(&node.original_file_path);
                base.join(file.parent().unwrap_or(Path::new("")))
                    .join(format!("{}.sql", node.name))
            }
            // dbt: a generic test's SQL goes under its property file's path.
            ResourceType::Test if node.test.as_ref().is_some_and(|t| t.metadata.is_some()) => {
                base.join(&node.original_file_path).join(&node.path)
            }
            // dbt: under the property file's path, then the folder of the model's file.
            ResourceType::UnitTest => {
                let model_folder = node
                    .unit_test
                    .as_ref()
                    .and_then(|unit| self.node(&unit.model))
                    .and_then(|model| {
                        Path::new(&model.original_file_path)
                            .parent()
                            .map(Path::to_path_buf)
                    })
                    .unwrap_or_default();
                base.join(&node.original_file_path)
                    .join(model_folder)
                    .join(format!("{}.sql", node.name))
            }
            _ => base.join(&node.original_file_path),
        })
    }
}

/// Writes a file under the target directory (secrets masked), creating its folders. A
/// file that already holds `text` is left alone: rewriting thousands of unchanged files
/// on every compile costs more than the compile itself (truncating makes ext4 flush each
/// one).
pub fn write_artifact(path: &Path, text: &str) -> Result<(), Diagnostic> {
    let text = &*mart_project::secrets::scrub(text);
    let io = |e: std::io::Error| {
        Diagnostic::error(Code::Io, format!("cannot write {}: {e}", path.display()))
            .with_help("check that the target directory is writable")
    };
    let unchanged = std::fs::metadata(path).is_ok_and(|m| m.len() == text.len() as u64)
        && std::fs::read(path).is_ok_and(|old| old == text.as_bytes());
    if unchanged {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, text).map_err(io)
}

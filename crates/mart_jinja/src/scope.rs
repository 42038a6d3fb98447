//! Per-render state: what the node being rendered may see, and what its render records
//! (ref/source/config calls, logs), passed through the context as one hidden object.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use mart_adapter::Relation;
use mart_project::ConfigMap;
use minijinja::value::{Object, Value};

use crate::query::QueryRunner;
use crate::statement::StoredResult;

/// Which render this is. Parse renders find dependencies and configs; compile renders
/// produce the SQL that runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Parse,
    Compile,
}

/// A `ref()` call as written.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct RefCall {
    pub package: Option<String>,
    pub name: String,
    /// `v=` / `version=`: a version of a versioned model (none: its latest version).
    #[serde(default)]
    pub version: Option<String>,
}

/// A `source()` call as written.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct SourceCall {
    pub source: String,
    pub table: String,
}

/// What `ref()` resolves to in the compile phase.
#[derive(Clone, Debug)]
pub enum ResolvedRef {
    Relation(Relation),
    /// An ephemeral model: rendered as its CTE name and injected by the compiler.
    Ephemeral {
        cte_name: String,
    },
}

/// Resolves ref()/source() against the project's nodes (supplied by the compiler).
pub trait Resolver: Send + Sync {
    /// `from_package`: the package of the node calling `ref()` (none: the root project).
    fn resolve_ref(&self, call: &RefCall, from_package: Option<&str>) -> Option<ResolvedRef>;
    fn resolve_source(&self, call: &SourceCall) -> Option<Relation>;
    /// What `source()` renders: the source's relation, unless a resolver stands something
    /// else in for it (a unit test's given rows).
    fn resolve_source_ref(&self, call: &SourceCall) -> Option<ResolvedRef> {
        self.resolve_source(call).map(ResolvedRef::Relation)
    }
    /// Known names for "did you mean" suggestions.
    fn ref_names(&self) -> Vec<String>;
    /// The `event_time` config of the node a ref() names, which a microbatch model's
    /// batch filters it by.
    fn ref_event_time(&self, _call: &RefCall, _from_package: Option<&str>) -> Option<String> {
        None
    }
    /// The `event_time` config of a source table.
    fn source_event_time(&self, _call: &SourceCall) -> Option<String> {
        None
    }
}

/// The batch a microbatch model's render is for: `[start, end)` as dbt prints the bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchWindow {
    pub start: String,
    pub end: String,
}

/// What a unit test changes in its model's render (dbt's `overrides:`; `is_incremental`
/// is the scope's own flag).
#[derive(Clone, Debug, Default)]
pub struct UnitTestRender {
    pub vars: serde_json::Map<String, serde_json::Value>,
    pub env_vars: std::collections::BTreeMap<String, String>,
    /// The CTE of the `this` input's rows, which `{{ this }}` renders as.
    pub this_cte: Option<String>,
}

/// A named statement block's outcome, for the run result of a materialization.
#[derive(Clone, Debug)]
pub struct StatementOutcome {
    pub sql: String,
    pub message: String,
    pub rows_affected: Option<u64>,
}

/// Everything one render records.
#[derive(Clone, Debug, Default)]
pub struct Recorded {
    pub refs: Vec<RefCall>,
    pub sources: Vec<SourceCall>,
    /// `config()` calls, in order; later calls override earlier ones.
    pub configs: Vec<ConfigMap>,
    /// Messages from log()/print()/exceptions.warn(), for the caller to show.
    pub logs: Vec<String>,
    /// Unique ids (`macro.<package>.<name>`) of the macros the template called itself,
    /// first call first, each once: dbt's `depends_on.macros` (calls made inside those
    /// macros are theirs, not the node's).
    pub macros: Vec<String>,
}

/// The node a render is for.
pub struct RenderScope {
    pub phase: Phase,
    /// The package the node belongs to; none for the root project. Bare macro names and
    /// `var()` resolve for it.
    pub package: Option<String>,
    pub resolver: Option<Arc<dyn Resolver>>,
    pub query_runner: Option<Arc<dyn QueryRunner>>,
    /// The config as known before this render (project, property file, earlier renders).
    pub config: ConfigMap,
    pub this: Option<Relation>,
    pub is_incremental: bool,
    /// `--empty`: ref() and source() read zero rows of their relations.
    pub empty_inputs: bool,
    /// A microbatch model's batch: ref() and source() of nodes with an `event_time` read
    /// only the batch's rows.
    pub batch: Option<BatchWindow>,
    /// The `model` variable: name, unique_id, paths, config.
    pub model: serde_json::Value,
    /// Set while a unit test renders its model: what it overrides.
    pub unit_test: Option<UnitTestRender>,
    /// Top-level variables of this render only (on-run-end's `results`, `schemas`,
    /// `database_schemas`); macros it calls see them too.
    pub variables: serde_json::Map<String, serde_json::Value>,
    pub(crate) recorded: Mutex<Recorded>,
    /// The value passed to `return()` by the innermost macro call.
    pub(crate) returned: Mutex<Option<Value>>,
    /// Results of named `statement` blocks, for `load_result()`.
    pub(crate) results: Mutex<HashMap<String, StoredResult>>,
    /// Whether the render committed (`adapter.commit()`, or a `commit` statement).
    pub(crate) committed: std::sync::atomic::AtomicBool,
    /// How many macro calls are under way: only calls at depth 0 are the node's own.
    pub(crate) macro_depth: AtomicUsize,
}

impl std::fmt::Debug for RenderScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderScope")
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}

impl Object for RenderScope {}

impl RenderScope {
    pub fn new(phase: Phase) -> Self {
        Self {
            phase,
            package: None,
            resolver: None,
            query_runner: None,
            config: ConfigMap::new(),
            this: None,
            is_incremental: false,
            empty_inputs: false,
            batch: None,
            model: serde_json::Value::Null,
            unit_test: None,
            variables: serde_json::Map::new(),
            recorded: Mutex::new(Recorded::default()),
            returned: Mutex::new(None),
            results: Mutex::new(HashMap::new()),
            committed: std::sync::atomic::AtomicBool::new(false),
            macro_depth: AtomicUsize::new(0),
        }
    }

    /// Notes a call of macro `package.name`; one made while no other macro runs is the
    /// template's own and recorded.
    pub(crate) fn note_macro_call(&self, package: &str, name: &str) {
        if self.macro_depth.load(Ordering::SeqCst) == 0 {
            let id = format!("macro.{package}.{name}");
            let mut recorded = self.record();
            if !recorded.macros.contains(&id) {
                recorded.macros.push(id);
            }
        }
    }

    /// Marks a macro call under way until the guard drops.
    pub(crate) fn enter_macro(&self) -> MacroDepthGuard<'_> {
        self.macro_depth.fetch_add(1, Ordering::SeqCst);
        MacroDepthGuard(&self.macro_depth)
    }

    pub(crate) fn record(&self) -> MutexGuard<'_, Recorded> {
        // A poisoned lock only means another render panicked; the data is still usable.
        self.recorded.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn take_recorded(&self) -> Recorded {
        std::mem::take(&mut *self.record())
    }

    /// Whether the render called `adapter.commit()` or ran a `commit` statement: dbt keeps
    /// a materialization's work only then.
    pub fn committed(&self) -> bool {
        self.committed.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) fn mark_committed(&self) {
        self.committed
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// What the statement block `name` ran: its SQL, PostgreSQL's command tag for it
    /// (`SELECT 3`) and the rows it affected; none when no such block ran.
    pub fn statement_outcome(&self, name: &str) -> Option<StatementOutcome> {
        let results = self.results.lock().unwrap_or_else(|e| e.into_inner());
        results.get(name).map(|r| StatementOutcome {
            sql: r.sql.clone(),
            message: r.message(),
            rows_affected: r.rows_affected(),
        })
    }
}

/// Ends a macro call's depth when dropped (also when the call fails).
pub(crate) struct MacroDepthGuard<'a>(&'a AtomicUsize);

impl Drop for MacroDepthGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

//! Per-render state: what the node being rendered may see, and what its render records
//! (ref/source/config calls, logs), passed through the context as one hidden object.

use std::collections::HashMap;
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

/// Everything one render records.
#[derive(Clone, Debug, Default)]
pub struct Recorded {
    pub refs: Vec<RefCall>,
    pub sources: Vec<SourceCall>,
    /// `config()` calls, in order; later calls override earlier ones.
    pub configs: Vec<ConfigMap>,
    /// Messages from log()/print()/exceptions.warn(), for the caller to show.
    pub logs: Vec<String>,
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
    /// The `model` variable: name, unique_id, paths, config.
    pub model: serde_json::Value,
    /// Set while a unit test renders its model: what it overrides.
    pub unit_test: Option<UnitTestRender>,
    pub(crate) recorded: Mutex<Recorded>,
    /// The value passed to `return()` by the innermost macro call.
    pub(crate) returned: Mutex<Option<Value>>,
    /// Results of named `statement` blocks, for `load_result()`.
    pub(crate) results: Mutex<HashMap<String, StoredResult>>,
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
            model: serde_json::Value::Null,
            unit_test: None,
            recorded: Mutex::new(Recorded::default()),
            returned: Mutex::new(None),
            results: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn record(&self) -> MutexGuard<'_, Recorded> {
        // A poisoned lock only means another render panicked; the data is still usable.
        self.recorded.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn take_recorded(&self) -> Recorded {
        std::mem::take(&mut *self.record())
    }
}

//! Executes selected nodes on PostgreSQL: in DAG order, `threads` at a time, each on a
//! connection of its own (models, seeds and snapshots). A failed node skips only its
//! descendants.
//!
//! It asks the compiler for SQL and the adapter for statements, runs them, and reports
//! progress through a [`Reporter`]; it never prints.

mod catalog;
mod contract;
mod custom_materialization;
mod data_test;
mod dependents;
mod heartbeat;
mod hooks;
mod incremental;
mod materialize;
mod materialized_view;
mod microbatch;
mod query;
mod run_lock;
mod schedule;
mod seed;
mod snapshot;
mod sql_header;
mod unit_test;
mod view_skip;

use std::time::{Duration, SystemTime};

use mart_diagnostics::Diagnostic;
use mart_graph::NodeId;

pub use mart_adapter::microbatch::{parse_time, Batch, NaiveDateTime};

pub use catalog::RunCatalog;
pub use heartbeat::INTERVAL as HEARTBEAT_INTERVAL;
pub use query::{PgAnalysisDatabase, PgQueryRunner};
pub use schedule::{execute, RunContext, RunEndContext};
pub use view_skip::UNCHANGED_MESSAGE;

/// How a node ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NodeStatus {
    /// Built, loaded, or (tests) passed.
    #[default]
    Success,
    /// The node could not run (SQL error, compile error).
    Error,
    Skipped,
    /// A test whose failures passed `warn_if` but not `error_if`, or with severity warn.
    Warn,
    /// A test whose failures passed `error_if`.
    Fail,
    /// A microbatch model some of whose batches failed (its children are skipped).
    PartialSuccess,
}

impl NodeStatus {
    /// Whether the nodes after this one may run (a warning does not stop them).
    pub fn lets_children_run(self) -> bool {
        matches!(self, NodeStatus::Success | NodeStatus::Warn)
    }
}

/// The outcome of one node.
#[derive(Clone, Debug)]
pub struct NodeResult {
    pub id: NodeId,
    pub status: NodeStatus,
    /// What the database said ("CREATE VIEW", "SELECT 3962", "INSERT 300"), or why it was skipped.
    pub message: String,
    pub error: Option<Box<Diagnostic>>,
    pub started_at: SystemTime,
    pub duration: Duration,
    pub rows_affected: Option<u64>,
    /// Tests: the number of failures (rows, or the test's fail_calc).
    pub failures: Option<u64>,
    /// The SQL the node compiled to, when it got that far.
    pub compiled_sql: Option<String>,
    /// A microbatch model: which batches succeeded and which failed.
    pub batch_results: Option<BatchResults>,
}

/// The batches of a microbatch model by outcome, each list in time order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchResults {
    pub successful: Vec<Batch>,
    pub failed: Vec<Batch>,
}

/// What a node task hands back when it ran.
#[derive(Default)]
pub(crate) struct Ran {
    pub status: NodeStatus,
    pub message: String,
    pub rows_affected: Option<u64>,
    pub failures: Option<u64>,
    pub compiled_sql: Option<String>,
    pub batch_results: Option<BatchResults>,
    /// Why a node that returned (a microbatch model whose batches all failed) failed.
    pub error: Option<Box<Diagnostic>>,
    /// The build left the relation as it was (a materialized view whose configuration
    /// changed under `on_configuration_change: continue`): nothing runs after it.
    pub unchanged: bool,
    /// A view built: its record (see [`view_skip`]), kept once the build commits.
    pub view_record: Option<(String, view_skip::ViewRecord)>,
}

impl Ran {
    pub(crate) fn success(
        message: String,
        rows_affected: Option<u64>,
        compiled_sql: Option<String>,
    ) -> Self {
        Self {
            message,
            rows_affected,
            compiled_sql,
            ..Ran::default()
        }
    }
}

/// Progress of a run, in the order things happen.
#[derive(Clone, Debug)]
pub enum Event {
    Start {
        index: usize,
        total: usize,
        id: NodeId,
    },
    Finish {
        index: usize,
        total: usize,
        result: NodeResult,
    },
    /// A long seed sent `done` rows to COPY, `percent` of its file (every
    /// `SEED_BATCH_ROWS` rows, and once more when COPY ends).
    Progress { id: NodeId, done: u64, percent: u64 },
    /// A message the node's templates logged (`log(..., info=True)`, `print()`), or what
    /// the runner did beside the build (views recreated).
    Log { id: NodeId, message: String },
    /// About the run as a whole (waiting for the run lock).
    Notice { message: String },
    /// A microbatch model's batch `index` of `total` starts; `label` names it by its
    /// start (`2024-01-01`).
    BatchStart {
        id: NodeId,
        index: usize,
        total: usize,
        label: String,
    },
    /// A batch ended: `Success` (message: what the database said), `Error` (with the
    /// error) or `Skipped` (the first batch failed).
    BatchFinish {
        id: NodeId,
        index: usize,
        total: usize,
        label: String,
        status: NodeStatus,
        message: String,
        error: Option<Box<Diagnostic>>,
        duration: Duration,
    },
    /// A node still running after a few seconds: the statement its session runs and,
    /// when it waits for a lock, on what and held by whom.
    Heartbeat {
        id: NodeId,
        elapsed: Duration,
        statement: Option<String>,
        waiting_for: Option<String>,
    },
}

/// Receives progress; the command line prints it.
pub trait Reporter: Send + Sync {
    fn report(&self, event: &Event);
}

#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// `--event-time-start` / `--event-time-end`: the span microbatch models build.
    pub event_time_start: Option<NaiveDateTime>,
    pub event_time_end: Option<NaiveDateTime>,
    pub threads: usize,
    pub full_refresh: bool,
    pub fail_fast: bool,
    /// `mart build`: the children of a node also wait for its tests, and a failing test
    /// skips them.
    pub tests_gate_children: bool,
    /// How long to wait for another run on the same target to finish (`None`: as long
    /// as it takes).
    pub lock_timeout: Option<Duration>,
    /// `--empty`: refs and sources read zero rows (the relations are built, no data read).
    pub empty: bool,
}

/// Why a run could not start at all (exit code 2, as opposed to node failures).
#[derive(Debug)]
pub struct RunError(pub Diagnostic);

impl From<Diagnostic> for RunError {
    fn from(d: Diagnostic) -> Self {
        Self(d)
    }
}

//! Executes selected nodes on PostgreSQL: in DAG order, `threads` at a time, each on a
//! connection of its own (models, seeds and snapshots). A failed node skips only its
//! descendants.
//!
//! It asks the compiler for SQL and the adapter for statements, runs them, and reports
//! progress through a [`Reporter`]; it never prints.

mod hooks;
mod incremental;
mod materialize;
mod query;
mod schedule;
mod seed;
mod snapshot;

use std::time::Duration;

use mart_diagnostics::Diagnostic;
use mart_graph::NodeId;

pub use query::PgQueryRunner;
pub use schedule::{execute, RunContext};

/// How a node ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeStatus {
    Success,
    Error,
    Skipped,
}

/// The outcome of one node.
#[derive(Clone, Debug)]
pub struct NodeResult {
    pub id: NodeId,
    pub status: NodeStatus,
    /// What the database said ("CREATE VIEW", "SELECT 3962", "INSERT 300"), or why it was skipped.
    pub message: String,
    pub error: Option<Box<Diagnostic>>,
    pub duration: Duration,
    pub rows_affected: Option<u64>,
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
    /// A long seed loaded `done` of its `total` rows (after each COPY batch).
    Progress { id: NodeId, done: u64, total: u64 },
}

/// Receives progress; the command line prints it.
pub trait Reporter: Send + Sync {
    fn report(&self, event: &Event);
}

#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    pub threads: usize,
    pub full_refresh: bool,
    pub fail_fast: bool,
}

/// Why a run could not start at all (exit code 2, as opposed to node failures).
#[derive(Debug)]
pub struct RunError(pub Diagnostic);

impl From<Diagnostic> for RunError {
    fn from(d: Diagnostic) -> Self {
        Self(d)
    }
}

//! The node graph of a mart project and dbt's node selection syntax.
//!
//! What it does:
//! - [`Dag::build`] turns a list of [`GraphNode`]s (models, seeds, snapshots, sources,
//!   tests, ...) into a DAG (petgraph inside), rejecting unknown parents, duplicate ids
//!   and cycles (with the cycle's path, in data-flow order, starting at its smallest id).
//! - It gives a deterministic topological order (ties broken by [`NodeId`]), parents,
//!   children, ancestors and descendants.
//! - [`select`] evaluates `--select`/`--exclude` values as dbt users write them:
//!   unions (spaces), intersections (commas), `+`, `N+`, `+N`, `@`, and the methods
//!   `tag:`, `path:`, `file:`, `fqn:`, `package:`, `source:`, `resource_type:`,
//!   `config.<key>:`, `state:` and `result:` (against a [`StateMarks`] the caller
//!   attaches to the DAG), with `*`/`?` globs. [`select_with_indirect`] adds the tests of the
//!   selected nodes as dbt's `--indirect-selection` does.
//!
//! What it does not do: it reads no files, renders no Jinja and touches no database; it
//! does not know where a `ref()` was written (callers that have spans attach them to the
//! diagnostics), and it does not filter a selection by what a command runs (`mart run`
//! keeps the models). Selectors that match nothing are not errors; callers warn.

mod bitset;
mod dag;
mod expression;
mod glob;
mod hash_index;
mod node;
mod select;
mod selector;
mod state;
#[cfg(test)]
mod test_support;

pub use dag::{sort_by_id_in_place, Dag, GraphError};
pub use expression::{select_expression, SelectorExpr};
pub use node::{
    FlatConfig, GraphNode, NodeId, NodeVersion, ResourceType, UnknownResourceType, VersionStatus,
};
pub use select::{evaluate, select, select_with_indirect, unmatched, IndirectSelection, Unmatched};
pub use selector::{
    parse_selector, Criterion, Depth, Intersection, Selector, SelectorError, SelectorPart,
};
pub use state::{ModifiedPart, NodeState, StateCheck, StateMarks};

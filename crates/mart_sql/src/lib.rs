//! SQL analysis of compiled models with sqlparser (PostgreSQL dialect).
//!
//! [`parse`] reads compiled SQL and says whether a failure is sure to be a syntax error
//! or may be a gap of the parser. [`analyse`] walks one query: its output columns (names,
//! the relation columns each reads, types where known) and every column reference
//! checked against what its relation provides. [`column_lineage`] is the lineage part
//! alone. Nothing is guessed: what the SQL and the [`Relations`] given do not tell stays
//! unknown and unchecked. Knows nothing about projects, nodes or files.

mod analysis;
mod lineage;
mod names;
mod scope;
mod syntax;

pub use analysis::{analyse, analyse_statements, Analysis, Problem, ProblemKind};
pub use lineage::{column_lineage, ColumnLineage, ColumnRef, Origin, Relations};
pub use names::normalize_type;
pub use syntax::{parse, SyntaxError};

/// Why a statement could not be analysed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    #[error("cannot parse the SQL: {}", .0.message)]
    Parse(SyntaxError),
    #[error("the SQL is not a single query (select)")]
    NotAQuery,
}

//! SQL analysis of compiled models with sqlparser (PostgreSQL dialect).
//!
//! [`column_lineage`] reads one `select` and says, for each output column, which columns
//! of which relations feed it, or that this cannot be told from the SQL alone (a
//! subquery in an expression, an ambiguous unqualified name, `*` over a relation whose
//! columns the SQL does not list). It never guesses: an unknown stays unknown. Knows
//! nothing about projects, nodes or files.

mod lineage;

pub use lineage::{column_lineage, ColumnLineage, ColumnRef, Origin, Relations};

/// Why a statement could not be analysed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    /// sqlparser's message, which ends with "at Line: L, Column: C".
    #[error("cannot parse the SQL: {0}")]
    Parse(String),
    #[error("the SQL is not a single query (select)")]
    NotAQuery,
}

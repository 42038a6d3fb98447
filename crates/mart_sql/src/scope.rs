//! What a query can name at one point: the relations of its FROM clauses, innermost
//! first, and what is known of their columns.

use std::collections::BTreeSet;

use crate::{ColumnLineage, ColumnRef, Origin};

/// The output columns of a query, when they can be listed.
#[derive(Clone, Debug)]
pub(crate) enum Shape {
    /// `complete` is false when some column is missing from the list or named by a guess
    /// (a `*` over a relation of unknown columns, an expression PostgreSQL names oddly).
    Known {
        columns: Vec<ColumnLineage>,
        complete: bool,
    },
    Opaque(String),
}

impl Shape {
    pub(crate) fn known(columns: Vec<ColumnLineage>, complete: bool) -> Self {
        let complete = complete && columns.iter().all(|c| c.name != "*");
        Shape::Known { columns, complete }
    }
}

/// A relation in a FROM clause.
pub(crate) enum Source {
    Table(Table),
    Derived(Shape),
}

/// A relation the query reads, with its columns when they are known completely.
pub(crate) struct Table {
    pub(crate) name: String,
    pub(crate) columns: Option<Vec<String>>,
}

/// PostgreSQL's system columns, which every table has without listing them.
const SYSTEM_COLUMNS: [&str; 6] = ["ctid", "xmin", "xmax", "cmin", "cmax", "tableoid"];

impl Table {
    pub(crate) fn column(&self, column: &str) -> Origin {
        Origin::Columns(BTreeSet::from([ColumnRef {
            relation: self.name.clone(),
            column: column.to_string(),
        }]))
    }
}

/// Whether a source has a column.
#[derive(Clone, Debug)]
pub(crate) enum Lookup {
    Has(Origin),
    Lacks,
    /// Its columns are not known completely.
    Maybe(Origin),
}

impl Source {
    pub(crate) fn lookup(&self, column: &str) -> Lookup {
        match self {
            Source::Table(table) => match &table.columns {
                Some(columns) if columns.iter().any(|c| c == column) => {
                    Lookup::Has(table.column(column))
                }
                Some(_) if SYSTEM_COLUMNS.contains(&column) => Lookup::Has(table.column(column)),
                Some(_) => Lookup::Lacks,
                None => Lookup::Maybe(table.column(column)),
            },
            Source::Derived(Shape::Opaque(reason)) => {
                Lookup::Maybe(Origin::Unknown(reason.clone()))
            }
            Source::Derived(Shape::Known { columns, complete }) => {
                let mut found = columns.iter().filter(|c| c.name == column);
                match (found.next(), found.next()) {
                    (Some(one), None) => Lookup::Has(one.origin.clone()),
                    (Some(_), Some(_)) => Lookup::Has(Origin::unknown(format!(
                        "'{column}' is several columns of the relation"
                    ))),
                    (None, _) if *complete => Lookup::Lacks,
                    (None, _) => Lookup::Maybe(through_star(columns, column)),
                }
            }
        }
    }

    /// Every column name, when known (for "did you mean").
    pub(crate) fn column_names(&self) -> Vec<&str> {
        match self {
            Source::Table(table) => table.columns.iter().flatten().map(String::as_str).collect(),
            Source::Derived(Shape::Known { columns, .. }) => columns
                .iter()
                .map(|c| c.name.as_str())
                .filter(|n| *n != "*")
                .collect(),
            Source::Derived(Shape::Opaque(_)) => Vec::new(),
        }
    }

    /// The columns `*` yields.
    pub(crate) fn wildcard(&self) -> (Vec<ColumnLineage>, bool) {
        match self {
            Source::Table(table) => match &table.columns {
                Some(columns) => (
                    columns
                        .iter()
                        .map(|c| ColumnLineage {
                            name: c.clone(),
                            origin: table.column(c),
                            data_type: None,
                        })
                        .collect(),
                    true,
                ),
                None => (
                    vec![ColumnLineage {
                        name: "*".to_string(),
                        origin: table.column("*"),
                        data_type: None,
                    }],
                    false,
                ),
            },
            Source::Derived(Shape::Known { columns, complete }) => (columns.clone(), *complete),
            Source::Derived(Shape::Opaque(reason)) => (
                vec![ColumnLineage {
                    name: "*".to_string(),
                    origin: Origin::Unknown(reason.clone()),
                    data_type: None,
                }],
                false,
            ),
        }
    }
}

/// A column not listed by name: a `*` over a single relation passes it through.
fn through_star(columns: &[ColumnLineage], column: &str) -> Origin {
    let stars: Vec<&ColumnLineage> = columns.iter().filter(|c| c.name == "*").collect();
    match stars.as_slice() {
        [star] => match &star.origin {
            Origin::Columns(refs) => Origin::Columns(
                refs.iter()
                    .map(|r| ColumnRef {
                        relation: r.relation.clone(),
                        column: column.to_string(),
                    })
                    .collect(),
            ),
            unknown => unknown.clone(),
        },
        [] => Origin::unknown(format!("no column '{column}' in the relation")),
        _ => Origin::unknown(format!("'{column}' could come from several relations")),
    }
}

/// One SELECT's FROM clause.
#[derive(Default)]
pub(crate) struct Scope {
    /// (alias or relation name, source), in FROM order.
    pub(crate) sources: Vec<(String, Source)>,
    /// Columns merged by `JOIN ... USING` or `NATURAL JOIN`: unqualified, they name one
    /// column, not several.
    pub(crate) merged: BTreeSet<String>,
    /// A NATURAL JOIN over relations of unknown columns merges names nobody can list.
    pub(crate) merges_unknown: bool,
}

/// A scope and the scopes of the queries it is nested in.
#[derive(Clone, Copy)]
pub(crate) struct Frame<'a> {
    pub(crate) scope: &'a Scope,
    pub(crate) outer: Option<&'a Frame<'a>>,
}

/// What an unqualified or qualified column reference resolves to.
#[derive(Debug)]
pub(crate) enum Resolved {
    Column(Origin),
    /// Cannot be told from what is known (no error).
    Unknown(Origin),
    /// Sure: no relation in reach has it.
    Missing,
    /// Sure: several relations of the FROM clause have it.
    Ambiguous(Vec<String>),
    /// Sure: the qualifier names no relation in reach.
    NoQualifier,
}

impl Scope {
    /// The source a qualifier names: its alias, or the relation name or its last part.
    pub(crate) fn find(&self, qualifier: &[String]) -> Option<&Source> {
        let wanted = qualifier.join(".");
        let last = qualifier.last()?;
        self.sources
            .iter()
            .find(|(name, _)| *name == wanted)
            .or_else(|| {
                self.sources.iter().find(|(name, source)| {
                    matches!(source, Source::Table(_)) && name.rsplit('.').next() == Some(last)
                })
            })
            .map(|(_, source)| source)
    }

    fn resolve_here(&self, column: &str) -> Resolved {
        let mut has = Vec::new();
        let mut maybe = Vec::new();
        for (name, source) in &self.sources {
            match source.lookup(column) {
                Lookup::Has(origin) => has.push((name, origin)),
                Lookup::Maybe(origin) => maybe.push(origin),
                Lookup::Lacks => {}
            }
        }
        let merged = self.merged.contains(column) || self.merges_unknown;
        match (has.len(), maybe.len()) {
            (1, 0) => Resolved::Column(has.remove(0).1),
            (0, 1) => Resolved::Unknown(maybe.remove(0)),
            (0, 0) => Resolved::Missing,
            (_, _) if merged => Resolved::Unknown(
                has.into_iter()
                    .map(|(_, o)| o)
                    .chain(maybe)
                    .fold(Origin::Columns(BTreeSet::new()), Origin::merge),
            ),
            (n, 0) if n > 1 => {
                Resolved::Ambiguous(has.into_iter().map(|(n, _)| n.clone()).collect())
            }
            _ => Resolved::Unknown(Origin::unknown(format!(
                "'{column}' is unqualified and could come from several relations"
            ))),
        }
    }

    fn names_relation(&self, name: &str) -> bool {
        self.sources
            .iter()
            .any(|(alias, _)| alias == name || alias.rsplit('.').next() == Some(name))
    }
}

impl Frame<'_> {
    /// An unqualified name: the innermost scope that has it, else a whole-row reference
    /// to a relation, else missing when every relation in reach lists its columns.
    pub(crate) fn resolve(&self, column: &str) -> Resolved {
        let mut unknown = None;
        let mut frame = Some(self);
        while let Some(f) = frame {
            match f.scope.resolve_here(column) {
                Resolved::Missing if f.scope.names_relation(column) => {
                    return Resolved::Unknown(Origin::unknown("a whole-row reference"));
                }
                Resolved::Missing => {}
                Resolved::Unknown(origin) => {
                    unknown.get_or_insert(origin);
                }
                found => return unknown.map_or(found, Resolved::Unknown),
            }
            frame = f.outer;
        }
        match unknown {
            Some(origin) => Resolved::Unknown(origin),
            None => Resolved::Missing,
        }
    }

    /// `qualifier.column`.
    pub(crate) fn resolve_qualified(&self, qualifier: &[String], column: &str) -> Resolved {
        let mut frame = Some(self);
        while let Some(f) = frame {
            if let Some(source) = f.scope.find(qualifier) {
                return match source.lookup(column) {
                    Lookup::Has(origin) => Resolved::Column(origin),
                    Lookup::Maybe(origin) => Resolved::Unknown(origin),
                    Lookup::Lacks => Resolved::Missing,
                };
            }
            frame = f.outer;
        }
        Resolved::NoQualifier
    }

    /// The source `qualifier` names in reach, for messages.
    pub(crate) fn source(&self, qualifier: &[String]) -> Option<&Source> {
        let mut frame = Some(self);
        while let Some(f) = frame {
            if let Some(source) = f.scope.find(qualifier) {
                return Some(source);
            }
            frame = f.outer;
        }
        None
    }

    /// Every column name and relation alias in reach (for "did you mean").
    pub(crate) fn candidates(&self) -> Vec<String> {
        let mut names = Vec::new();
        let mut frame = Some(self);
        while let Some(f) = frame {
            for (alias, source) in &f.scope.sources {
                names.extend(source.column_names().into_iter().map(str::to_string));
                if !alias.is_empty() {
                    names.push(alias.clone());
                }
            }
            frame = f.outer;
        }
        names
    }

    /// The relation aliases in reach.
    pub(crate) fn aliases(&self) -> Vec<String> {
        let mut names = Vec::new();
        let mut frame = Some(self);
        while let Some(f) = frame {
            names.extend(
                f.scope
                    .sources
                    .iter()
                    .map(|(alias, _)| alias.clone())
                    .filter(|a| !a.is_empty()),
            );
            frame = f.outer;
        }
        names
    }
}

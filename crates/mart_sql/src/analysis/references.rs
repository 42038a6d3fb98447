//! Column references: resolved against the scopes in reach, and reported when
//! PostgreSQL is sure to reject them.

use std::collections::BTreeSet;
use std::ops::{ControlFlow, Range};

use sqlparser::ast::{Expr, Ident, Query, Visit, Visitor};

use super::{Analyser, Clause, Ctes, Problem, ProblemKind, RESERVED};
use crate::names::{ident, NILADIC_FUNCTIONS};
use crate::scope::{Frame, Resolved};
use crate::syntax::byte_offset;
use crate::Origin;

impl Analyser<'_> {
    /// Checks every column reference of `expr` (subqueries in their own scope) and
    /// returns the relation columns it reads.
    pub(super) fn check(
        &self,
        expr: &Expr,
        frame: &Frame<'_>,
        ctes: &Ctes,
        clause: Clause<'_>,
    ) -> Origin {
        let mut visitor = ExprVisitor {
            analyser: self,
            frame,
            ctes,
            clause,
            depth: 0,
            origin: Origin::Columns(BTreeSet::new()),
        };
        let _ = expr.visit(&mut visitor);
        visitor.origin
    }

    fn report(
        &self,
        kind: ProblemKind,
        message: String,
        range: Range<usize>,
        help: Option<String>,
    ) {
        self.problems.borrow_mut().push(Problem {
            kind,
            message,
            range,
            help,
        });
    }

    pub(super) fn no_qualifier(
        &self,
        qualifier: &[String],
        range: &Range<usize>,
        frame: &Frame<'_>,
    ) {
        let name = qualifier.join(".");
        let aliases = frame.aliases();
        let listed = listing("the FROM clause names", &aliases);
        let help = match (suggest(&name, &aliases), listed) {
            (Some(guess), Some(listed)) if aliases.len() > 1 => Some(format!("{guess} ({listed})")),
            (guess, listed) => guess.or(listed),
        };
        self.report(
            ProblemKind::UnknownQualifier,
            format!("'{name}' names no relation of the FROM clause"),
            range.clone(),
            help,
        );
    }

    /// A relation or alias as messages name it.
    fn describe(&self, name: &str) -> String {
        self.relations
            .describe(name)
            .unwrap_or_else(|| name.to_string())
    }

    pub(super) fn span_of(&self, idents: &[Ident]) -> Range<usize> {
        let (Some(first), Some(last)) = (idents.first(), idents.last()) else {
            return 0..0;
        };
        let start = byte_offset(self.sql, first.span.start.line, first.span.start.column);
        let end = byte_offset(self.sql, last.span.end.line, last.span.end.column);
        start..end.max(start)
    }

    fn reference(&self, idents: &[Ident], frame: &Frame<'_>, clause: Clause<'_>) -> Origin {
        let parts: Vec<String> = idents.iter().map(ident).collect();
        let Some((column, qualifier)) = parts.split_last() else {
            return Origin::Columns(BTreeSet::new());
        };
        if let [word] = idents {
            if word.quote_style.is_none() && RESERVED.contains(&column.as_str()) {
                self.report(
                    ProblemKind::ReservedWord,
                    format!(
                        "syntax error at '{}': an expression is missing before it",
                        word.value
                    ),
                    self.span_of(idents),
                    Some(
                        "add the missing operand, or quote the name if it is a column".to_string(),
                    ),
                );
                return Origin::unknown("a syntax error");
            }
        }
        let resolved = if qualifier.is_empty() {
            match clause {
                Clause::SeesAliases(names) if names.contains(column) => {
                    return Origin::unknown("an output column");
                }
                _ if NILADIC_FUNCTIONS.contains(&column.as_str()) => {
                    return Origin::Columns(BTreeSet::new());
                }
                _ => frame.resolve(column),
            }
        } else {
            frame.resolve_qualified(qualifier, column)
        };
        match resolved {
            Resolved::Column(origin) => {
                *self.checked.borrow_mut() += 1;
                origin
            }
            Resolved::Unknown(origin) => {
                *self.unchecked.borrow_mut() += 1;
                origin
            }
            Resolved::NoQualifier => {
                self.no_qualifier(qualifier, &self.span_of(idents), frame);
                Origin::unknown(format!(
                    "'{}' names no relation of the FROM clause",
                    qualifier.join(".")
                ))
            }
            Resolved::Ambiguous(relations) => {
                self.report(
                    ProblemKind::AmbiguousColumn,
                    format!(
                        "column '{column}' is ambiguous: it is in {}",
                        relations.join(" and ")
                    ),
                    self.span_of(idents),
                    Some(format!(
                        "qualify it, as {}.{column}",
                        relations.first().map_or("", String::as_str)
                    )),
                );
                Origin::unknown(format!("'{column}' is in several relations"))
            }
            Resolved::Missing => {
                self.missing(column, qualifier, idents, frame, clause);
                Origin::unknown(format!("no column '{column}'"))
            }
        }
    }

    fn missing(
        &self,
        column: &str,
        qualifier: &[String],
        idents: &[Ident],
        frame: &Frame<'_>,
        clause: Clause<'_>,
    ) {
        let (message, candidates) = if qualifier.is_empty() {
            let relations: Vec<String> = frame
                .scope
                .sources
                .iter()
                .filter(|(name, _)| !name.is_empty())
                .map(|(name, _)| self.describe(name))
                .collect();
            let place = match relations.as_slice() {
                [] => "no relation is in the FROM clause".to_string(),
                [one] => format!("{one} has no such column"),
                many => format!("none of {} has it", many.join(", ")),
            };
            (
                format!("unknown column '{column}': {place}"),
                frame.candidates(),
            )
        } else {
            let source = frame.source(qualifier);
            (
                format!(
                    "unknown column '{column}': {} has no such column",
                    self.describe(&qualifier.join("."))
                ),
                source
                    .map(|s| s.column_names().into_iter().map(str::to_string).collect())
                    .unwrap_or_default(),
            )
        };
        let help = match clause {
            Clause::BlindToAliases(aliases, place) if qualifier.is_empty() && aliases.iter().any(|a| a == column) => Some(format!(
                "'{column}' is an alias of the select list, which {place} cannot see: repeat its expression"
            )),
            _ => suggest(column, &candidates).or_else(|| {
                // The columns of this FROM clause (candidates also hold aliases, which
                // name whole rows, and the outer queries' columns).
                let own: Vec<String> = if qualifier.is_empty() {
                    frame
                        .scope
                        .sources
                        .iter()
                        .flat_map(|(_, s)| s.column_names())
                        .map(str::to_string)
                        .collect()
                } else {
                    candidates.clone()
                };
                listing("the columns there are", &own)
            }),
        };
        self.report(
            ProblemKind::UnknownColumn,
            message,
            self.span_of(idents),
            help,
        );
    }
}

/// Walks one expression: column references at depth 0, subqueries analysed in a scope
/// nested in the expression's.
struct ExprVisitor<'a, 'b> {
    analyser: &'a Analyser<'a>,
    frame: &'a Frame<'b>,
    ctes: &'a Ctes,
    clause: Clause<'a>,
    depth: usize,
    origin: Origin,
}

impl Visitor for ExprVisitor<'_, '_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if self.depth == 0 {
            let _ = self.analyser.query(query, self.ctes, Some(self.frame));
            let found = Origin::unknown("a subquery in the expression");
            self.origin =
                std::mem::replace(&mut self.origin, Origin::Columns(BTreeSet::new())).merge(found);
        }
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if self.depth > 0 {
            return ControlFlow::Continue(());
        }
        let found = match expr {
            Expr::Identifier(id) => {
                self.analyser
                    .reference(std::slice::from_ref(id), self.frame, self.clause)
            }
            Expr::CompoundIdentifier(parts) => {
                self.analyser.reference(parts, self.frame, self.clause)
            }
            _ => return ControlFlow::Continue(()),
        };
        self.origin =
            std::mem::replace(&mut self.origin, Origin::Columns(BTreeSet::new())).merge(found);
        ControlFlow::Continue(())
    }
}

/// "`what` a, b, c" for a help: the names to choose from, the first few of many.
fn listing(what: &str, names: &[String]) -> Option<String> {
    const SHOWN: usize = 12;
    let (shown, more) = names.split_at(names.len().min(SHOWN));
    let etc = if more.is_empty() { "" } else { ", ..." };
    (!shown.is_empty()).then(|| format!("{what} {}{etc}", shown.join(", ")))
}

/// "did you mean": the closest name, else one that contains the name (`name` ->
/// `full_name`).
fn suggest(name: &str, candidates: &[String]) -> Option<String> {
    mart_diagnostics::closest_name(name, candidates.iter().map(String::as_str))
        .or_else(|| {
            candidates
                .iter()
                .map(String::as_str)
                .find(|c| name.len() >= 3 && c.contains(name))
        })
        .map(|c| format!("did you mean '{c}'?"))
}

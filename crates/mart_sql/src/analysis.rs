//! One query walked clause by clause: the output columns (names, lineage, types) and
//! every column reference checked against what its relation provides.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use sqlparser::ast::{
    Distinct, Expr, GroupByExpr, Ident, JoinConstraint, JoinOperator, NamedWindowExpr, OrderBy,
    OrderByKind, Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, Statement,
    TableAlias, TableFactor, TableWithJoins,
};

use crate::names::{expr_type, ident, name_parts, output_name};
use crate::scope::{Frame, Lookup, Resolved, Scope, Shape, Source, Table};
use crate::{ColumnLineage, Origin, Relations, SqlError};

/// What the analysis found in one query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Analysis {
    /// The output columns; a `*` entry stands for columns that cannot be listed.
    pub columns: Vec<ColumnLineage>,
    /// Whether `columns` lists every output column by its sure name.
    pub complete: bool,
    /// Sure errors, in the order of the SQL.
    pub problems: Vec<Problem>,
    /// Column references that could not be checked (relations of unknown columns).
    pub unchecked: usize,
    /// Column references proven to name a column of their relation.
    pub checked: usize,
}

/// A column reference PostgreSQL is sure to reject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub message: String,
    /// Byte range of the reference in the SQL.
    pub range: Range<usize>,
    pub help: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    UnknownColumn,
    UnknownQualifier,
    AmbiguousColumn,
    /// A reserved word read as a column name (`a + from t`): something is missing.
    ReservedWord,
}

/// Words PostgreSQL never takes as a bare column name.
const RESERVED: [&str; 16] = [
    "from",
    "where",
    "group",
    "order",
    "having",
    "select",
    "limit",
    "union",
    "join",
    "on",
    "and",
    "or",
    "as",
    "by",
    "except",
    "intersect",
];

/// Analyses `sql`, which must be one query (a select, with CTEs and set operations).
pub fn analyse(sql: &str, relations: &dyn Relations) -> Result<Analysis, SqlError> {
    let statements = crate::syntax::parse(sql).map_err(SqlError::Parse)?;
    analyse_statements(&statements, sql, relations)
}

/// [`analyse`] for statements already parsed from `sql`.
pub fn analyse_statements(
    statements: &[Statement],
    sql: &str,
    relations: &dyn Relations,
) -> Result<Analysis, SqlError> {
    let [Statement::Query(query)] = statements else {
        return Err(SqlError::NotAQuery);
    };
    let analyser = Analyser {
        relations,
        sql,
        problems: RefCell::new(Vec::new()),
        unchecked: RefCell::new(0),
        checked: RefCell::new(0),
    };
    let shape = analyser.query(query, &Ctes::default(), None);
    let (columns, complete) = match shape {
        Shape::Known { columns, complete } => (columns, complete),
        Shape::Opaque(reason) => (
            vec![ColumnLineage {
                name: "*".to_string(),
                origin: Origin::Unknown(reason),
                data_type: None,
            }],
            false,
        ),
    };
    let mut problems = analyser.problems.into_inner();
    problems.sort_by_key(|p| p.range.start);
    problems.dedup();
    // Past a syntax error the rest of the statement is misread: report that alone.
    if problems.iter().any(|p| p.kind == ProblemKind::ReservedWord) {
        problems.retain(|p| p.kind == ProblemKind::ReservedWord);
    }
    Ok(Analysis {
        columns,
        complete,
        problems,
        unchecked: analyser.unchecked.into_inner(),
        checked: analyser.checked.into_inner(),
    })
}

/// CTEs visible at a point of the query.
#[derive(Clone, Default)]
struct Ctes {
    defined: HashMap<String, Shape>,
}

struct Analyser<'a> {
    relations: &'a dyn Relations,
    sql: &'a str,
    problems: RefCell<Vec<Problem>>,
    unchecked: RefCell<usize>,
    checked: RefCell<usize>,
}

/// Names a clause may use besides the FROM clause's columns: the select list's aliases
/// (GROUP BY, ORDER BY and DISTINCT ON see them; WHERE and HAVING do not).
#[derive(Clone, Copy)]
enum Clause<'a> {
    Plain,
    SeesAliases(&'a [String]),
    /// WHERE or HAVING: an alias there is an error with its own help.
    BlindToAliases(&'a [String], &'static str),
}

impl Analyser<'_> {
    fn query(&self, query: &Query, outer_ctes: &Ctes, outer: Option<&Frame<'_>>) -> Shape {
        let mut ctes = outer_ctes.clone();
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                let name = ident(&cte.alias.name);
                if with.recursive {
                    // Its own body reads it before its columns are known.
                    ctes.defined
                        .insert(name.clone(), Shape::Opaque("a recursive CTE".to_string()));
                }
                let shape = renamed(self.query(&cte.query, &ctes, outer), &cte.alias);
                ctes.defined.insert(name, shape);
            }
        }
        match &*query.body {
            SetExpr::Select(select) => self.select(select, &ctes, outer, query.order_by.as_ref()),
            body => {
                if query.order_by.is_some() {
                    *self.unchecked.borrow_mut() += 1;
                }
                self.set_expr(body, &ctes, outer)
            }
        }
    }

    fn set_expr(&self, body: &SetExpr, ctes: &Ctes, outer: Option<&Frame<'_>>) -> Shape {
        match body {
            SetExpr::Select(select) => self.select(select, ctes, outer, None),
            SetExpr::Query(query) => self.query(query, ctes, outer),
            SetExpr::SetOperation { left, right, .. } => {
                match (
                    self.set_expr(left, ctes, outer),
                    self.set_expr(right, ctes, outer),
                ) {
                    (
                        Shape::Known {
                            columns: left,
                            complete: l,
                        },
                        Shape::Known {
                            columns: right,
                            complete: r,
                        },
                    ) if left.len() == right.len() => Shape::known(
                        left.into_iter()
                            .zip(right)
                            .map(|(l, r)| ColumnLineage {
                                data_type: l.data_type.filter(|t| Some(t) == r.data_type.as_ref()),
                                name: l.name,
                                origin: l.origin.merge(r.origin),
                            })
                            .collect(),
                        l && r,
                    ),
                    _ => Shape::Opaque("the branches of a set operation differ".to_string()),
                }
            }
            SetExpr::Values(values) => {
                let width = values.rows.first().map_or(0, Vec::len);
                let frame = Frame {
                    scope: &Scope::default(),
                    outer,
                };
                for row in &values.rows {
                    for expr in row {
                        self.check(expr, &frame, ctes, Clause::Plain);
                    }
                }
                Shape::known(
                    (1..=width)
                        .map(|i| ColumnLineage {
                            name: format!("column{i}"),
                            origin: Origin::Columns(BTreeSet::new()),
                            data_type: None,
                        })
                        .collect(),
                    true,
                )
            }
            _ => Shape::Opaque("not a select".to_string()),
        }
    }

    fn select(
        &self,
        select: &Select,
        ctes: &Ctes,
        outer: Option<&Frame<'_>>,
        order_by: Option<&OrderBy>,
    ) -> Shape {
        let mut scope = Scope::default();
        for table in &select.from {
            self.add_sources(table, ctes, &mut scope, outer);
        }
        let frame = Frame {
            scope: &scope,
            outer,
        };
        let mut columns = Vec::new();
        let mut complete = true;
        for item in &select.projection {
            match item {
                SelectItem::UnnamedExpr(expr) => {
                    let (name, sure) = output_name(expr);
                    complete &= sure;
                    columns.push(self.output_column(name, expr, &frame, ctes));
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    columns.push(self.output_column(ident(alias), expr, &frame, ctes));
                }
                SelectItem::Wildcard(_) => {
                    for (_, source) in &scope.sources {
                        let (all, known) = source.wildcard();
                        columns.extend(all);
                        complete &= known;
                    }
                }
                SelectItem::QualifiedWildcard(kind, _) => match kind {
                    SelectItemQualifiedWildcardKind::ObjectName(name) => {
                        let parts = name_parts(name);
                        match frame.source(&parts) {
                            Some(source) => {
                                let (all, known) = source.wildcard();
                                columns.extend(all);
                                complete &= known;
                            }
                            None => {
                                let idents: Vec<Ident> = name
                                    .0
                                    .iter()
                                    .filter_map(|p| p.as_ident().cloned())
                                    .collect();
                                self.no_qualifier(&parts, &self.span_of(&idents), &frame);
                                complete = false;
                                columns.push(star(format!(
                                    "{}.* names no relation of the FROM clause",
                                    parts.join(".")
                                )));
                            }
                        }
                    }
                    SelectItemQualifiedWildcardKind::Expr(expr) => {
                        self.check(expr, &frame, ctes, Clause::Plain);
                        complete = false;
                        columns.push(star("expansion of an expression".to_string()));
                    }
                },
            }
        }
        let aliases: Vec<String> = select
            .projection
            .iter()
            .filter_map(|item| match item {
                SelectItem::ExprWithAlias { alias, .. } => Some(ident(alias)),
                _ => None,
            })
            .collect();
        let output: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        if let Some(Distinct::On(exprs)) = &select.distinct {
            for expr in exprs {
                self.check(expr, &frame, ctes, Clause::SeesAliases(&output));
            }
        }
        if let Some(selection) = &select.selection {
            let clause = Clause::BlindToAliases(&aliases, "WHERE");
            self.check(selection, &frame, ctes, clause);
        }
        if let GroupByExpr::Expressions(exprs, _) = &select.group_by {
            for expr in exprs {
                self.check(expr, &frame, ctes, Clause::SeesAliases(&output));
            }
        }
        if let Some(having) = &select.having {
            let clause = Clause::BlindToAliases(&aliases, "HAVING");
            self.check(having, &frame, ctes, clause);
        }
        if let Some(qualify) = &select.qualify {
            self.check(qualify, &frame, ctes, Clause::SeesAliases(&output));
        }
        for window in &select.named_window {
            if let NamedWindowExpr::WindowSpec(spec) = &window.1 {
                for expr in &spec.partition_by {
                    self.check(expr, &frame, ctes, Clause::Plain);
                }
                for order in &spec.order_by {
                    self.check(&order.expr, &frame, ctes, Clause::Plain);
                }
            }
        }
        if let Some(OrderBy {
            kind: OrderByKind::Expressions(exprs),
            ..
        }) = order_by
        {
            for order in exprs {
                self.check(&order.expr, &frame, ctes, Clause::SeesAliases(&output));
            }
        }
        Shape::known(columns, complete)
    }

    fn output_column(
        &self,
        name: String,
        expr: &Expr,
        frame: &Frame<'_>,
        ctes: &Ctes,
    ) -> ColumnLineage {
        let origin = self.check(expr, frame, ctes, Clause::Plain);
        let column_type = |e: &Expr| self.column_type(e, frame);
        ColumnLineage {
            name,
            origin,
            data_type: expr_type(expr, &column_type),
        }
    }

    /// The declared or derived type of a column reference.
    fn column_type(&self, expr: &Expr, frame: &Frame<'_>) -> Option<String> {
        let (qualifier, column) = match expr {
            Expr::Identifier(id) => (Vec::new(), ident(id)),
            Expr::CompoundIdentifier(parts) => {
                let mut parts: Vec<String> = parts.iter().map(ident).collect();
                let column = parts.pop()?;
                (parts, column)
            }
            _ => return None,
        };
        let resolved = if qualifier.is_empty() {
            frame.resolve(&column)
        } else {
            frame.resolve_qualified(&qualifier, &column)
        };
        let Resolved::Column(Origin::Columns(refs)) = resolved else {
            return None;
        };
        let [only] = refs.iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        let derived = |source: &Source| match source {
            Source::Derived(Shape::Known { columns, .. }) => columns
                .iter()
                .find(|c| c.name == column)
                .and_then(|c| c.data_type.clone()),
            _ => None,
        };
        let from_derived = if qualifier.is_empty() {
            frame
                .scope
                .sources
                .iter()
                .find(|(_, s)| matches!(s.lookup(&column), Lookup::Has(_)))
                .and_then(|(_, s)| derived(s))
        } else {
            frame.source(&qualifier).and_then(derived)
        };
        from_derived.or_else(|| self.relations.column_type(&only.relation, &only.column))
    }

    fn add_sources(
        &self,
        table: &TableWithJoins,
        ctes: &Ctes,
        scope: &mut Scope,
        outer: Option<&Frame<'_>>,
    ) {
        self.add_factor(&table.relation, ctes, scope, outer);
        for join in &table.joins {
            self.add_factor(&join.relation, ctes, scope, outer);
            let constraint = match &join.join_operator {
                JoinOperator::Join(c)
                | JoinOperator::Inner(c)
                | JoinOperator::Left(c)
                | JoinOperator::LeftOuter(c)
                | JoinOperator::Right(c)
                | JoinOperator::RightOuter(c)
                | JoinOperator::FullOuter(c)
                | JoinOperator::CrossJoin(c) => c,
                _ => continue,
            };
            match constraint {
                JoinConstraint::On(expr) => {
                    let frame = Frame {
                        scope: &*scope,
                        outer,
                    };
                    self.check(expr, &frame, ctes, Clause::Plain);
                }
                JoinConstraint::Using(names) => {
                    for name in names {
                        if let Some(last) = name_parts(name).pop() {
                            scope.merged.insert(last);
                        }
                    }
                }
                JoinConstraint::Natural => scope.merges_unknown = true,
                JoinConstraint::None => {}
            }
        }
    }

    fn add_factor(
        &self,
        factor: &TableFactor,
        ctes: &Ctes,
        scope: &mut Scope,
        outer: Option<&Frame<'_>>,
    ) {
        match factor {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let parts = name_parts(name);
                let full = parts.join(".");
                let cte = (parts.len() == 1 && !self.relations.is_relation_cte(&full))
                    .then(|| ctes.defined.get(&full))
                    .flatten();
                let source = if args.is_some() {
                    Source::Derived(Shape::Opaque("a table function".to_string()))
                } else {
                    match cte {
                        Some(shape) => Source::Derived(match alias {
                            Some(alias) => renamed(shape.clone(), alias),
                            None => shape.clone(),
                        }),
                        None => Source::Table(Table {
                            columns: self.relations.columns(&full),
                            name: full.clone(),
                        }),
                    }
                };
                let name = alias.as_ref().map_or(full, |a| ident(&a.name));
                scope.sources.push((name, source));
            }
            TableFactor::Derived {
                lateral,
                subquery,
                alias,
            } => {
                let siblings = Frame {
                    scope: &*scope,
                    outer,
                };
                let reach = if *lateral { Some(&siblings) } else { outer };
                let shape = self.query(subquery, ctes, reach);
                let (name, shape) = match alias {
                    Some(alias) => (ident(&alias.name), renamed(shape, alias)),
                    None => (String::new(), shape),
                };
                scope.sources.push((name, Source::Derived(shape)));
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                let mut inner = Scope::default();
                self.add_sources(table_with_joins, ctes, &mut inner, outer);
                match alias {
                    // An aliased join hides its relations' names behind the alias.
                    Some(alias) => scope.sources.push((
                        ident(&alias.name),
                        Source::Derived(Shape::Opaque("an aliased join".to_string())),
                    )),
                    None => {
                        scope.sources.extend(inner.sources);
                        scope.merged.extend(inner.merged);
                        scope.merges_unknown |= inner.merges_unknown;
                    }
                }
            }
            other => {
                // Table functions (generate_series, unnest, ...): PostgreSQL lets their
                // arguments read the relations before them.
                let frame = Frame {
                    scope: &*scope,
                    outer,
                };
                let (name, shape) = match other {
                    TableFactor::Function { args, alias, .. } => {
                        for arg in args {
                            if let sqlparser::ast::FunctionArg::Unnamed(
                                sqlparser::ast::FunctionArgExpr::Expr(e),
                            ) = arg
                            {
                                self.check(e, &frame, ctes, Clause::Plain);
                            }
                        }
                        (alias.clone(), None)
                    }
                    TableFactor::TableFunction { expr, alias } => {
                        self.check(expr, &frame, ctes, Clause::Plain);
                        (alias.clone(), None)
                    }
                    TableFactor::UNNEST {
                        alias, array_exprs, ..
                    } => {
                        for e in array_exprs {
                            self.check(e, &frame, ctes, Clause::Plain);
                        }
                        (alias.clone(), None)
                    }
                    _ => (None, None::<Shape>),
                };
                let shape = match &name {
                    Some(alias) if !alias.columns.is_empty() => Shape::known(
                        alias
                            .columns
                            .iter()
                            .map(|c| ColumnLineage {
                                name: ident(&c.name),
                                origin: Origin::Columns(BTreeSet::new()),
                                data_type: c
                                    .data_type
                                    .as_ref()
                                    .map(|t| crate::names::normalize_type(&t.to_string())),
                            })
                            .collect(),
                        true,
                    ),
                    _ => shape.unwrap_or_else(|| Shape::Opaque("a table function".to_string())),
                };
                let name = name.map(|a| ident(&a.name)).unwrap_or_default();
                scope.sources.push((name, Source::Derived(shape)));
            }
        }
    }
}

fn star(reason: String) -> ColumnLineage {
    ColumnLineage {
        name: "*".to_string(),
        origin: Origin::Unknown(reason),
        data_type: None,
    }
}

/// A derived relation's columns under `alias (a, b, ...)`, renamed by position.
fn renamed(shape: Shape, alias: &TableAlias) -> Shape {
    match shape {
        Shape::Known {
            mut columns,
            complete,
        } if !alias.columns.is_empty() => {
            for (column, new) in columns.iter_mut().zip(&alias.columns) {
                column.name = ident(&new.name);
            }
            Shape::Known { columns, complete }
        }
        other => other,
    }
}

mod references;

#[cfg(test)]
#[path = "analysis_tests.rs"]
mod tests;

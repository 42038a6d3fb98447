//! Column-level lineage of one query: output column -> the relation columns it reads.

use std::collections::{BTreeSet, HashMap};
use std::ops::ControlFlow;

use sqlparser::ast::{
    visit_expressions, Expr, Ident, ObjectName, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, Statement, TableAlias, TableFactor, TableWithJoins,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::SqlError;

/// A column of a relation the query reads. `relation` is the name as written in the SQL,
/// identifiers unquoted and folded as PostgreSQL folds them (`"db"."Sch".t` ->
/// `db.Sch.t`); `column` is `*` when every column of the relation passes through.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ColumnRef {
    pub relation: String,
    pub column: String,
}

/// Where an output column's values come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The relation columns the expression reads (empty for a constant).
    Columns(BTreeSet<ColumnRef>),
    /// The SQL alone does not tell; the reason, for the reader.
    Unknown(String),
}

impl Origin {
    fn unknown(reason: impl Into<String>) -> Self {
        Origin::Unknown(reason.into())
    }

    fn merge(self, other: Origin) -> Origin {
        match (self, other) {
            (Origin::Columns(mut a), Origin::Columns(b)) => {
                a.extend(b);
                Origin::Columns(a)
            }
            (unknown @ Origin::Unknown(_), _) | (_, unknown @ Origin::Unknown(_)) => unknown,
        }
    }
}

/// One output column of the query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnLineage {
    /// As PostgreSQL names it (`*` for a pass-through of a relation's columns).
    pub name: String,
    pub origin: Origin,
}

/// What is known about the relations a query reads, beyond the SQL itself.
pub trait Relations {
    /// Whether a CTE of this name stands for a relation of its own: dbt injects ephemeral
    /// models as CTEs, and their columns belong to the ephemeral model, not to what it
    /// reads.
    fn is_relation_cte(&self, _name: &str) -> bool {
        false
    }

    /// Every column of a relation, when known completely (the database catalog, or the
    /// relation's own SQL). Lets an unqualified name pick its relation and `*` expand.
    fn columns(&self, _relation: &str) -> Option<Vec<String>> {
        None
    }
}

/// Nothing known beyond the SQL.
impl Relations for () {}

/// The lineage of every output column of `sql`, a single select.
pub fn column_lineage(
    sql: &str,
    relations: &dyn Relations,
) -> Result<Vec<ColumnLineage>, SqlError> {
    let statements = Parser::parse_sql(&PostgreSqlDialect {}, sql)
        .map_err(|e| SqlError::Parse(e.to_string()))?;
    let [Statement::Query(query)] = statements.as_slice() else {
        return Err(SqlError::NotAQuery);
    };
    let analyser = Analyser { relations };
    let shape = analyser.query(query, &Ctes::default());
    Ok(match shape {
        Shape::Known(columns) => columns,
        Shape::Opaque(reason) => vec![ColumnLineage {
            name: "*".to_string(),
            origin: Origin::Unknown(reason),
        }],
    })
}

/// The output columns of a query, when they can be listed.
#[derive(Clone, Debug)]
enum Shape {
    Known(Vec<ColumnLineage>),
    Opaque(String),
}

/// CTEs visible at a point of the query, innermost last.
#[derive(Clone, Default)]
struct Ctes {
    defined: HashMap<String, Shape>,
}

/// A relation in a FROM clause.
enum Source {
    Table(Table),
    Derived(Shape),
}

/// A relation the query reads, with its columns when they are known.
struct Table {
    name: String,
    columns: Option<Vec<String>>,
}

impl Table {
    fn column(&self, column: &str) -> Origin {
        Origin::Columns(BTreeSet::from([ColumnRef {
            relation: self.name.clone(),
            column: column.to_string(),
        }]))
    }

    /// Whether the relation can have the column: it lists it, or its columns are unknown.
    fn may_have(&self, column: &str) -> bool {
        self.columns
            .as_ref()
            .is_none_or(|columns| columns.iter().any(|c| c == column))
    }
}

struct Scope {
    /// (alias or relation name, source), in FROM order.
    sources: Vec<(String, Source)>,
}

struct Analyser<'a> {
    relations: &'a dyn Relations,
}

impl Analyser<'_> {
    fn query(&self, query: &Query, outer: &Ctes) -> Shape {
        let mut ctes = outer.clone();
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                let name = ident(&cte.alias.name);
                let shape = renamed(self.query(&cte.query, &ctes), &cte.alias);
                ctes.defined.insert(name, shape);
            }
        }
        self.set_expr(&query.body, &ctes)
    }

    fn set_expr(&self, body: &SetExpr, ctes: &Ctes) -> Shape {
        match body {
            SetExpr::Select(select) => self.select(select, ctes),
            SetExpr::Query(query) => self.query(query, ctes),
            SetExpr::SetOperation { left, right, .. } => {
                match (self.set_expr(left, ctes), self.set_expr(right, ctes)) {
                    (Shape::Known(left), Shape::Known(right)) if left.len() == right.len() => {
                        Shape::Known(
                            left.into_iter()
                                .zip(right)
                                .map(|(l, r)| ColumnLineage {
                                    name: l.name,
                                    origin: l.origin.merge(r.origin),
                                })
                                .collect(),
                        )
                    }
                    _ => Shape::Opaque("the branches of a set operation differ".to_string()),
                }
            }
            SetExpr::Values(values) => Shape::Known(
                (1..=values.rows.first().map_or(0, Vec::len))
                    .map(|i| ColumnLineage {
                        name: format!("column{i}"),
                        origin: Origin::Columns(BTreeSet::new()),
                    })
                    .collect(),
            ),
            _ => Shape::Opaque("not a select".to_string()),
        }
    }

    fn select(&self, select: &Select, ctes: &Ctes) -> Shape {
        let mut scope = Scope {
            sources: Vec::new(),
        };
        for table in &select.from {
            self.add_sources(table, ctes, &mut scope);
        }
        let mut columns = Vec::new();
        for item in &select.projection {
            match item {
                SelectItem::UnnamedExpr(expr) => columns.push(ColumnLineage {
                    name: output_name(expr),
                    origin: expr_origin(expr, &scope),
                }),
                SelectItem::ExprWithAlias { expr, alias } => columns.push(ColumnLineage {
                    name: ident(alias),
                    origin: expr_origin(expr, &scope),
                }),
                SelectItem::Wildcard(_) => {
                    for (_, source) in &scope.sources {
                        columns.extend(wildcard(source));
                    }
                }
                SelectItem::QualifiedWildcard(kind, _) => match kind {
                    SelectItemQualifiedWildcardKind::ObjectName(name) => {
                        let parts = name_parts(name);
                        match scope.find(&parts) {
                            Some(source) => columns.extend(wildcard(source)),
                            None => columns.push(ColumnLineage {
                                name: "*".to_string(),
                                origin: Origin::unknown(format!(
                                    "{}.* names no relation of the FROM clause",
                                    parts.join(".")
                                )),
                            }),
                        }
                    }
                    SelectItemQualifiedWildcardKind::Expr(_) => columns.push(ColumnLineage {
                        name: "*".to_string(),
                        origin: Origin::unknown("expansion of an expression"),
                    }),
                },
            }
        }
        Shape::Known(columns)
    }

    fn add_sources(&self, table: &TableWithJoins, ctes: &Ctes, scope: &mut Scope) {
        self.add_factor(&table.relation, ctes, scope);
        for join in &table.joins {
            self.add_factor(&join.relation, ctes, scope);
        }
    }

    fn add_factor(&self, factor: &TableFactor, ctes: &Ctes, scope: &mut Scope) {
        match factor {
            TableFactor::Table { name, alias, .. } => {
                let parts = name_parts(name);
                let full = parts.join(".");
                let cte = (parts.len() == 1 && !self.relations.is_relation_cte(&full))
                    .then(|| ctes.defined.get(&full))
                    .flatten();
                let source = match cte {
                    Some(shape) => Source::Derived(match alias {
                        Some(alias) => renamed(shape.clone(), alias),
                        None => shape.clone(),
                    }),
                    None => Source::Table(Table {
                        columns: self.relations.columns(&full),
                        name: full.clone(),
                    }),
                };
                let name = alias.as_ref().map_or(full, |a| ident(&a.name));
                scope.sources.push((name, source));
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                let shape = self.query(subquery, ctes);
                let (name, shape) = match alias {
                    Some(alias) => (ident(&alias.name), renamed(shape, alias)),
                    None => (String::new(), shape),
                };
                scope.sources.push((name, Source::Derived(shape)));
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => self.add_sources(table_with_joins, ctes, scope),
            other => {
                let name = match other {
                    TableFactor::Function { alias, .. }
                    | TableFactor::TableFunction { alias, .. }
                    | TableFactor::UNNEST { alias, .. } => {
                        alias.as_ref().map(|a| ident(&a.name)).unwrap_or_default()
                    }
                    _ => String::new(),
                };
                scope.sources.push((
                    name,
                    Source::Derived(Shape::Opaque("a table function".to_string())),
                ));
            }
        }
    }
}

impl Scope {
    /// The source a qualifier names: its alias, or the relation name or its last part.
    fn find(&self, qualifier: &[String]) -> Option<&Source> {
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

    /// An unqualified column: the one derived source that lists it, else the one table
    /// that can hold it.
    fn resolve(&self, column: &str) -> Origin {
        let mut listed = self.sources.iter().filter_map(|(_, source)| match source {
            Source::Derived(Shape::Known(columns)) => columns.iter().find(|c| c.name == column),
            _ => None,
        });
        if let Some(found) = listed.next() {
            if listed.next().is_some() {
                return Origin::unknown(format!("'{column}' is in several relations"));
            }
            return found.origin.clone();
        }
        let candidates: Vec<&Source> = self
            .sources
            .iter()
            .map(|(_, source)| source)
            .filter(|source| match source {
                Source::Table(table) => table.may_have(column),
                Source::Derived(Shape::Opaque(_)) => true,
                Source::Derived(Shape::Known(columns)) => columns.iter().any(|c| c.name == "*"),
            })
            .collect();
        match candidates.as_slice() {
            [source] => column_of(source, column),
            [] => Origin::unknown(format!("'{column}' is in no relation of the FROM clause")),
            _ => Origin::unknown(format!(
                "'{column}' is unqualified and could come from several relations"
            )),
        }
    }
}

/// A named column of a source.
fn column_of(source: &Source, column: &str) -> Origin {
    match source {
        Source::Table(table) => table.column(column),
        Source::Derived(Shape::Opaque(reason)) => Origin::Unknown(reason.clone()),
        Source::Derived(Shape::Known(columns)) => {
            if let Some(found) = columns.iter().find(|c| c.name == column) {
                return found.origin.clone();
            }
            // Not listed by name: a `*` over a single relation passes it through.
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
    }
}

/// The columns `*` yields for one source.
fn wildcard(source: &Source) -> Vec<ColumnLineage> {
    match source {
        Source::Table(table) => match &table.columns {
            Some(columns) => columns
                .iter()
                .map(|c| ColumnLineage {
                    name: c.clone(),
                    origin: table.column(c),
                })
                .collect(),
            None => vec![ColumnLineage {
                name: "*".to_string(),
                origin: table.column("*"),
            }],
        },
        Source::Derived(Shape::Known(columns)) => columns.clone(),
        Source::Derived(Shape::Opaque(reason)) => vec![ColumnLineage {
            name: "*".to_string(),
            origin: Origin::Unknown(reason.clone()),
        }],
    }
}

/// Every column reference of an expression, resolved against the FROM clause.
fn expr_origin(expr: &Expr, scope: &Scope) -> Origin {
    let mut origin = Origin::Columns(BTreeSet::new());
    let _ = visit_expressions(expr, |e| {
        let found = match e {
            Expr::Identifier(id) => scope.resolve(&ident(id)),
            Expr::CompoundIdentifier(parts) => {
                let parts: Vec<String> = parts.iter().map(ident).collect();
                let Some((column, qualifier)) = parts.split_last() else {
                    return ControlFlow::Continue(());
                };
                match scope.find(qualifier) {
                    Some(source) => column_of(source, column),
                    None => Origin::unknown(format!(
                        "'{}' names no relation of the FROM clause",
                        qualifier.join(".")
                    )),
                }
            }
            Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => {
                Origin::unknown("a subquery in the expression")
            }
            _ => return ControlFlow::Continue(()),
        };
        origin = std::mem::replace(&mut origin, Origin::Columns(BTreeSet::new())).merge(found);
        if matches!(origin, Origin::Unknown(_)) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    origin
}

/// The name PostgreSQL gives an unaliased select item.
fn output_name(expr: &Expr) -> String {
    match expr {
        Expr::Identifier(id) => ident(id),
        Expr::CompoundIdentifier(parts) => parts.last().map(ident).unwrap_or_default(),
        Expr::Cast { expr, .. } | Expr::Nested(expr) => output_name(expr),
        Expr::Function(f) => name_parts(&f.name).pop().unwrap_or_default(),
        _ => "?column?".to_string(),
    }
}

/// A derived relation's columns under `alias (a, b, ...)`, renamed by position.
fn renamed(shape: Shape, alias: &TableAlias) -> Shape {
    match shape {
        Shape::Known(mut columns) if !alias.columns.is_empty() => {
            for (column, new) in columns.iter_mut().zip(&alias.columns) {
                column.name = ident(&new.name);
            }
            Shape::Known(columns)
        }
        other => other,
    }
}

/// An identifier as PostgreSQL reads it: unquoted names fold to lower case.
fn ident(id: &Ident) -> String {
    match id.quote_style {
        Some(_) => id.value.clone(),
        None => id.value.to_lowercase(),
    }
}

fn name_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|part| {
            part.as_ident()
                .map(ident)
                .unwrap_or_else(|| part.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ephemeral CTEs stop; `known.t1` and `known.t2` have known columns.
    struct Known;

    impl Relations for Known {
        fn is_relation_cte(&self, name: &str) -> bool {
            name.starts_with("__dbt__cte__")
        }

        fn columns(&self, relation: &str) -> Option<Vec<String>> {
            let columns: &[&str] = match relation {
                "known.t1" => &["id", "a"],
                "known.t2" => &["id", "b"],
                _ => return None,
            };
            Some(columns.iter().map(|c| c.to_string()).collect())
        }
    }

    fn lineage(sql: &str) -> Vec<(String, String)> {
        column_lineage(sql, &Known)
            .unwrap()
            .into_iter()
            .map(|c| {
                let origin = match c.origin {
                    Origin::Columns(refs) => refs
                        .iter()
                        .map(|r| format!("{}.{}", r.relation, r.column))
                        .collect::<Vec<_>>()
                        .join(" "),
                    Origin::Unknown(why) => format!("unknown: {why}"),
                };
                (c.name, origin)
            })
            .collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn qualified_and_aliased_columns_through_a_join() {
        let sql = r#"select v.user_id, m.age as age_band, coalesce(m.gender, 'n/a') as gender
            from "postgres"."dev"."dim_user_variant" v
            left join "postgres"."dev"."dim_user_metadata" as m on v.user_id = m.user_id"#;
        assert_eq!(
            lineage(sql),
            pairs(&[
                ("user_id", "postgres.dev.dim_user_variant.user_id"),
                ("age_band", "postgres.dev.dim_user_metadata.age"),
                ("gender", "postgres.dev.dim_user_metadata.gender"),
            ])
        );
    }

    #[test]
    fn unqualified_columns_of_a_single_table_and_constants() {
        assert_eq!(
            lineage("select ID, amount * 2 as doubled, 1 as one, count(*) from raw.events"),
            pairs(&[
                ("id", "raw.events.id"),
                ("doubled", "raw.events.amount"),
                ("one", ""),
                ("count", ""),
            ])
        );
    }

    #[test]
    fn ctes_are_traced_but_ephemeral_ctes_stop() {
        let sql = r#"with __dbt__cte__src_event as (select user_id, clicked from raw.user_event),
            daily as (select user_id, sum(clicked) as clicks from __dbt__cte__src_event group by 1)
            select d.user_id, d.clicks, d.clicks / 2 as half from daily d"#;
        assert_eq!(
            lineage(sql),
            pairs(&[
                ("user_id", "__dbt__cte__src_event.user_id"),
                ("clicks", "__dbt__cte__src_event.clicked"),
                ("half", "__dbt__cte__src_event.clicked"),
            ])
        );
    }

    #[test]
    fn star_passes_a_relation_through_and_resolves_later_names() {
        let sql = "with base as (select * from shop.orders) select id, base.amount from base";
        assert_eq!(
            lineage(sql),
            pairs(&[("id", "shop.orders.id"), ("amount", "shop.orders.amount")])
        );
        assert_eq!(
            lineage("select * from shop.orders"),
            pairs(&[("*", "shop.orders.*")])
        );
    }

    #[test]
    fn unknown_where_the_sql_does_not_tell() {
        let rows = lineage(
            "select id, (select max(x) from t2) as m, a.v from t1 join t3 on t1.id = t3.id",
        );
        assert_eq!(
            rows,
            pairs(&[
                (
                    "id",
                    "unknown: 'id' is unqualified and could come from several relations"
                ),
                ("m", "unknown: a subquery in the expression"),
                ("v", "unknown: 'a' names no relation of the FROM clause"),
            ])
        );
    }

    #[test]
    fn known_columns_place_unqualified_names_and_expand_stars() {
        assert_eq!(
            lineage("select a, b, x.id from known.t1 x join known.t2 y on x.id = y.id"),
            pairs(&[
                ("a", "known.t1.a"),
                ("b", "known.t2.b"),
                ("id", "known.t1.id")
            ])
        );
        assert_eq!(
            lineage("select * from known.t1"),
            pairs(&[("id", "known.t1.id"), ("a", "known.t1.a")])
        );
        let sql = "with x as (select * from known.t1), y as (select * from known.t2)
            select a, y.id, b from y left join x on x.id = y.id";
        assert_eq!(
            lineage(sql),
            pairs(&[
                ("a", "known.t1.a"),
                ("id", "known.t2.id"),
                ("b", "known.t2.b")
            ])
        );
    }

    #[test]
    fn union_branches_merge_by_position() {
        assert_eq!(
            lineage("select a as x from t1 union all select b from t2"),
            pairs(&[("x", "t1.a t2.b")])
        );
    }

    #[test]
    fn subquery_in_from_and_quoted_names() {
        let sql = r#"select s."Total" from (select "Amount" + tax as "Total" from "Shop".o) s"#;
        assert_eq!(
            lineage(sql),
            pairs(&[("Total", "Shop.o.Amount Shop.o.tax")])
        );
    }

    #[test]
    fn parse_errors_and_non_queries_are_errors() {
        assert!(matches!(
            column_lineage("select a from (", &()),
            Err(SqlError::Parse(_))
        ));
        assert_eq!(
            column_lineage("delete from t", &()),
            Err(SqlError::NotAQuery)
        );
    }
}

//! Column-level lineage of one query: output column -> the relation columns it reads.

use std::collections::BTreeSet;

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
    pub(crate) fn unknown(reason: impl Into<String>) -> Self {
        Origin::Unknown(reason.into())
    }

    pub(crate) fn merge(self, other: Origin) -> Origin {
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
    /// Its type where the SQL or the relations it reads tell it, as the catalog spells it.
    pub data_type: Option<String>,
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

    /// How messages name a relation (`model 'orders'` for `"db"."sch"."orders"`).
    fn describe(&self, _relation: &str) -> Option<String> {
        None
    }

    /// The type of a relation's column, when known (declared, inferred or catalogued).
    fn column_type(&self, _relation: &str, _column: &str) -> Option<String> {
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
    crate::analyse(sql, relations).map(|analysis| analysis.columns)
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

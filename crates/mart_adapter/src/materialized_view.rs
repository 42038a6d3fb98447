//! Statements of the materialized_view materialization, as dbt-postgres builds it: create,
//! refresh, rebuild (`--full-refresh`, or another kind of relation in the way), and the
//! index changes, which are the one configuration PostgreSQL changes in place.
//!
//! Run each returned list in ONE transaction.

use std::collections::BTreeSet;

use crate::ddl::{drop_relation, wrap_body};
use crate::quote::{quote_ident, quote_literal};
use crate::relation::{Relation, RelationKind};

/// `create materialized view R as (sql)`: the first build, or after `existing` (any kind)
/// was dropped with `cascade` in the same transaction.
pub fn materialized_view_statements(
    target: &Relation,
    sql: &str,
    existing: Option<RelationKind>,
) -> Vec<String> {
    existing
        .map(|kind| drop_relation(target, kind))
        .into_iter()
        .chain([format!(
            "create materialized view {target} as {}",
            wrap_body(sql)
        )])
        .collect()
}

/// `refresh materialized view R`: a later run whose configuration did not change.
pub fn refresh_materialized_view(target: &Relation) -> String {
    format!("refresh materialized view {target}")
}

/// One index of a relation, or one the config asks for, compared as dbt-postgres compares
/// them: the set of columns, uniqueness and access method; the name does not count.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct IndexShape {
    pub columns: BTreeSet<String>,
    pub unique: bool,
    /// The access method; `btree` when the config names none.
    pub method: String,
}

impl IndexShape {
    pub fn new(columns: &[String], unique: bool, method: Option<&str>) -> Self {
        Self {
            columns: columns.iter().cloned().collect(),
            unique,
            method: method.unwrap_or("btree").to_ascii_lowercase(),
        }
    }
}

/// An index of the existing relation, as [`indexes_query`] reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExistingIndex {
    pub name: String,
    pub shape: IndexShape,
}

/// Rows `(name, method, unique, columns)` of every index on `schema.identifier`, columns
/// comma-separated; `unique` is `t` or `f`.
pub fn indexes_query(schema: &str, identifier: &str) -> String {
    format!(
        "select i.relname::text, m.amname::text, case when ix.indisunique then 't' else 'f' end, \
         array_to_string(array_agg(a.attname::text order by a.attname), ',') \
         from pg_catalog.pg_index ix \
         join pg_catalog.pg_class i on i.oid = ix.indexrelid \
         join pg_catalog.pg_am m on m.oid = i.relam \
         join pg_catalog.pg_class t on t.oid = ix.indrelid \
         join pg_catalog.pg_namespace n on n.oid = t.relnamespace \
         join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum = any(ix.indkey) \
         where n.nspname = {} and t.relname = {} \
         group by 1, 2, 3 order by 1",
        quote_literal(schema),
        quote_literal(identifier)
    )
}

/// Reads one row of [`indexes_query`]; `None` when it is not of that shape.
pub fn parse_index_row(row: &[Option<String>]) -> Option<ExistingIndex> {
    match row {
        [Some(name), Some(method), Some(unique), Some(columns)] => Some(ExistingIndex {
            name: name.clone(),
            shape: IndexShape {
                columns: columns.split(',').map(str::to_string).collect(),
                unique: unique == "t",
                method: method.clone(),
            },
        }),
        _ => None,
    }
}

/// What makes the existing indexes the configured ones: the names of those to drop and
/// the configured shapes that are missing (created by the runner's index step).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexChanges {
    pub drop: Vec<String>,
    pub create: Vec<IndexShape>,
}

impl IndexChanges {
    pub fn is_empty(&self) -> bool {
        self.drop.is_empty() && self.create.is_empty()
    }
}

/// Compares the existing indexes with the configured ones.
pub fn index_changes(existing: &[ExistingIndex], wanted: &[IndexShape]) -> IndexChanges {
    IndexChanges {
        drop: existing
            .iter()
            .filter(|e| !wanted.contains(&e.shape))
            .map(|e| e.name.clone())
            .collect(),
        create: wanted
            .iter()
            .filter(|w| !existing.iter().any(|e| &e.shape == *w))
            .cloned()
            .collect(),
    }
}

/// `drop index if exists "schema"."name"`.
pub fn drop_index(schema: &str, name: &str) -> String {
    format!(
        "drop index if exists {}.{}",
        quote_ident(schema),
        quote_ident(name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Relation {
        Relation::new(Some("warehouse".into()), "gold", "daily_mv")
    }

    #[test]
    fn create_refresh_and_rebuild() {
        let sql = "select 1 as id -- note\n;";
        insta::assert_snapshot!([
            materialized_view_statements(&target(), sql, None).join(";\n"),
            refresh_materialized_view(&target()),
            materialized_view_statements(&target(), sql, Some(RelationKind::MaterializedView))
                .join(";\n"),
            materialized_view_statements(&target(), sql, Some(RelationKind::Table)).join(";\n"),
            drop_index("gold", "daily_mv__id__uidx"),
        ]
        .join(";\n\n"), @r#"
        create materialized view "warehouse"."gold"."daily_mv" as (
        select 1 as id -- note
        );

        refresh materialized view "warehouse"."gold"."daily_mv";

        drop materialized view if exists "warehouse"."gold"."daily_mv" cascade;
        create materialized view "warehouse"."gold"."daily_mv" as (
        select 1 as id -- note
        );

        drop table if exists "warehouse"."gold"."daily_mv" cascade;
        create materialized view "warehouse"."gold"."daily_mv" as (
        select 1 as id -- note
        );

        drop index if exists "gold"."daily_mv__id__uidx"
        "#);
    }

    #[test]
    fn indexes_query_reads_the_catalog() {
        insta::assert_snapshot!(indexes_query("gold", "it's"), @"select i.relname::text, m.amname::text, case when ix.indisunique then 't' else 'f' end, array_to_string(array_agg(a.attname::text order by a.attname), ',') from pg_catalog.pg_index ix join pg_catalog.pg_class i on i.oid = ix.indexrelid join pg_catalog.pg_am m on m.oid = i.relam join pg_catalog.pg_class t on t.oid = ix.indrelid join pg_catalog.pg_namespace n on n.oid = t.relnamespace join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum = any(ix.indkey) where n.nspname = 'gold' and t.relname = 'it''s' group by 1, 2, 3 order by 1");
    }

    #[test]
    fn index_changes_compare_columns_uniqueness_and_method_not_names() {
        let s = |v: &[&str]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        let row = |name: &str, method: &str, unique: &str, cols: &str| {
            parse_index_row(&[
                Some(name.into()),
                Some(method.into()),
                Some(unique.into()),
                Some(cols.into()),
            ])
        };
        let existing: Vec<ExistingIndex> = [
            row("a", "btree", "t", "id"),
            row("b", "btree", "f", "day,user_id"),
            row("c", "hash", "f", "v"),
        ]
        .into_iter()
        .flatten()
        .collect();
        assert_eq!(existing.len(), 3);
        assert_eq!(parse_index_row(&[None]), None);
        // Same shapes, another column order and an explicit btree: no change.
        let same = [
            IndexShape::new(&s(&["id"]), true, None),
            IndexShape::new(&s(&["user_id", "day"]), false, Some("BTREE")),
            IndexShape::new(&s(&["v"]), false, Some("hash")),
        ];
        assert!(index_changes(&existing, &same).is_empty());
        // `id` no longer unique, `v` gone, a new one on `w`.
        let wanted = [
            IndexShape::new(&s(&["id"]), false, None),
            IndexShape::new(&s(&["day", "user_id"]), false, None),
            IndexShape::new(&s(&["w"]), false, None),
        ];
        assert_eq!(
            index_changes(&existing, &wanted),
            IndexChanges {
                drop: vec!["a".into(), "c".into()],
                create: vec![wanted[0].clone(), wanted[2].clone()],
            }
        );
    }
}

//! Statements of the view and table materializations.
//!
//! Every function returns plain SQL strings; a `Vec` returned here is meant to run in ONE
//! transaction (PostgreSQL DDL is transactional), which is what makes the rebuilds atomic.

use crate::contract::{create_and_insert, free_index_names, ContractTable};
use crate::quote::quote_ident;
use crate::relation::{suffixed_identifier, Relation, RelationKind};

/// Suffix of the relation a table is built into before the swap.
pub const TMP_SUFFIX: &str = "__mart_tmp";
/// Suffix the old relation is renamed to during the swap (then dropped).
pub const BACKUP_SUFFIX: &str = "__mart_backup";

/// `create schema if not exists "schema"`, after a transaction-level advisory lock on the
/// schema's name: two sessions creating the same schema at once would otherwise both miss
/// the other's uncommitted schema and one fail on `pg_namespace`'s unique index. Both
/// statements run in one (implicit or enclosing) transaction, which holds the lock.
pub fn create_schema(schema: &str) -> String {
    format!(
        "select pg_catalog.pg_advisory_xact_lock({SCHEMA_LOCK_SPACE}, pg_catalog.hashtext({})); \
         create schema if not exists {}",
        crate::quote::quote_literal(schema),
        quote_ident(schema)
    )
}

/// The first key of the schema-creation advisory locks (`mart` in ASCII), so they never
/// collide with an application's own single-key locks.
const SCHEMA_LOCK_SPACE: i32 = 0x6d61_7274;

/// `drop <kind> if exists R cascade`, with the right keyword for the kind
/// (`Other` uses `table`, so PostgreSQL reports what the object really is).
pub fn drop_relation(target: &Relation, kind: RelationKind) -> String {
    format!("drop {} if exists {target} cascade", kind.sql_keyword())
}

/// Statements that (re)create `target` as a view over `sql`; run them in ONE transaction.
///
/// - `existing` is `None` or `View`: one `create or replace view R as (sql)`.
/// - `existing` is a table (or another kind): `drop <kind> ... cascade`, then `create view`.
///
/// When `create or replace view` fails with SQLSTATE 42P16 (the column list changed), fall
/// back to [`view_replace_statements`].
pub fn view_statements(
    target: &Relation,
    sql: &str,
    existing: Option<RelationKind>,
) -> Vec<String> {
    match existing {
        None | Some(RelationKind::View) => {
            vec![format!(
                "create or replace view {target} as {}",
                wrap_body(sql)
            )]
        }
        Some(kind) => vec![drop_relation(target, kind), create_view(target, sql)],
    }
}

/// The 42P16 fallback of [`view_statements`]: `drop view ... cascade` + `create view`.
/// Run both in ONE transaction.
pub fn view_replace_statements(target: &Relation, sql: &str) -> Vec<String> {
    vec![
        drop_relation(target, RelationKind::View),
        create_view(target, sql),
    ]
}

/// Atomic table rebuild; run every statement in ONE transaction.
///
/// 1. drop leftovers of a killed run: `drop table if exists TMP cascade`, same for BACKUP;
/// 2. `create [unlogged] table TMP as (sql)`;
/// 3. when `existing` is `Some(kind)`: `alter <kind> R rename to BACKUP`;
/// 4. `alter table TMP rename to R`;
/// 5. when `existing` is `Some(kind)`: `drop <kind> if exists BACKUP cascade`.
///
/// TMP and BACKUP live in the target's schema and are named with [`suffixed_identifier`]
/// ([`TMP_SUFFIX`], [`BACKUP_SUFFIX`]). If the build fails the transaction rolls back and
/// the old relation is untouched. Note that step 5 cascades: views depending on the old
/// relation are dropped, as in dbt.
pub fn table_statements(
    target: &Relation,
    sql: &str,
    existing: Option<RelationKind>,
    unlogged: bool,
) -> Vec<String> {
    let unlogged = if unlogged { "unlogged " } else { "" };
    swap_statements(target, existing, |tmp| {
        vec![format!(
            "create {unlogged}table {tmp} as {}",
            wrap_body(sql)
        )]
    })
}

/// [`table_statements`] for a model with an enforced contract: step 2 is dbt-postgres's
/// contract DDL, `create table TMP (columns, types, constraints)` then
/// `insert into TMP (columns) select columns from (sql)`, so PostgreSQL checks every
/// constraint on the rows; a violation fails the transaction and the old relation stays.
pub fn contract_table_statements(
    target: &Relation,
    sql: &str,
    existing: Option<RelationKind>,
    unlogged: bool,
    table: &ContractTable<'_>,
) -> Vec<String> {
    swap_statements(target, existing, |tmp| {
        let old_names = match existing {
            Some(RelationKind::Table) => free_index_names(target, table),
            _ => None,
        };
        old_names
            .into_iter()
            .chain(create_and_insert(tmp, sql, table, unlogged))
            .collect()
    })
}

/// Steps 1, 3, 4 and 5 of [`table_statements`] around `build`, which fills TMP.
fn swap_statements(
    target: &Relation,
    existing: Option<RelationKind>,
    build: impl FnOnce(&Relation) -> Vec<String>,
) -> Vec<String> {
    let tmp_ident = suffixed_identifier(&target.identifier, TMP_SUFFIX);
    let backup_ident = suffixed_identifier(&target.identifier, BACKUP_SUFFIX);
    let tmp = target.with_identifier(tmp_ident);
    let backup = target.with_identifier(backup_ident.clone());

    let mut statements = vec![
        drop_relation(&tmp, RelationKind::Table),
        drop_relation(&backup, RelationKind::Table),
    ];
    statements.extend(build(&tmp));
    if let Some(kind) = existing {
        statements.push(format!(
            "alter {} {target} rename to {}",
            kind.sql_keyword(),
            quote_ident(&backup_ident)
        ));
    }
    statements.push(format!(
        "alter table {tmp} rename to {}",
        quote_ident(&target.identifier)
    ));
    if let Some(kind) = existing {
        statements.push(drop_relation(&backup, kind));
    }
    statements
}

fn create_view(target: &Relation, sql: &str) -> String {
    format!("create view {target} as {}", wrap_body(sql))
}

/// `(\n<sql>\n)`: the body on its own lines so a trailing `-- comment` cannot swallow the
/// closing parenthesis; trailing whitespace and semicolons are removed.
pub(crate) fn wrap_body(sql: &str) -> String {
    let body = sql.trim_end_matches(|c: char| c.is_whitespace() || c == ';');
    format!("(\n{body}\n)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Relation {
        Relation::new(None, "analytics", "dim_user")
    }

    fn join(statements: &[String]) -> String {
        statements.join(";\n\n")
    }

    #[test]
    fn schema_and_drop() {
        insta::assert_snapshot!(create_schema("my \"schema\""), @r#"select pg_catalog.pg_advisory_xact_lock(1835102836, pg_catalog.hashtext('my "schema"')); create schema if not exists "my ""schema""""#);
        let r = Relation::new(Some("db".into()), "s", "t");
        let all = [
            RelationKind::Table,
            RelationKind::View,
            RelationKind::MaterializedView,
            RelationKind::ForeignTable,
            RelationKind::Other,
        ]
        .map(|k| drop_relation(&r, k));
        insta::assert_snapshot!(all.join("\n"), @r#"
        drop table if exists "db"."s"."t" cascade
        drop view if exists "db"."s"."t" cascade
        drop materialized view if exists "db"."s"."t" cascade
        drop foreign table if exists "db"."s"."t" cascade
        drop table if exists "db"."s"."t" cascade
        "#);
    }

    #[test]
    fn view_new_or_replacing_view() {
        let sql = "select 1 as id -- trailing comment\n;\n";
        assert_eq!(
            view_statements(&target(), sql, None),
            view_statements(&target(), sql, Some(RelationKind::View))
        );
        insta::assert_snapshot!(join(&view_statements(&target(), sql, None)));
    }

    #[test]
    fn view_replacing_table() {
        insta::assert_snapshot!(join(&view_statements(
            &target(),
            "select 1 as id",
            Some(RelationKind::Table)
        )));
    }

    #[test]
    fn view_replacing_materialized_view() {
        insta::assert_snapshot!(join(&view_statements(
            &target(),
            "select 1 as id",
            Some(RelationKind::MaterializedView)
        )));
    }

    #[test]
    fn view_fallback() {
        insta::assert_snapshot!(join(&view_replace_statements(&target(), "select 1 as id")));
    }

    #[test]
    fn table_first_build() {
        insta::assert_snapshot!(join(&table_statements(
            &target(),
            "select 1 as id",
            None,
            false
        )));
    }

    #[test]
    fn table_rebuild_unlogged() {
        insta::assert_snapshot!(join(&table_statements(
            &target(),
            "select 1 as id",
            Some(RelationKind::Table),
            true
        )));
    }

    #[test]
    fn table_replacing_view() {
        insta::assert_snapshot!(join(&table_statements(
            &target(),
            "select 1 as id",
            Some(RelationKind::View),
            false
        )));
    }

    #[test]
    fn table_with_long_quoted_name() {
        let long = Relation::new(
            Some("warehouse".into()),
            "Mart \"Gold\"",
            format!("{}\"quoted\"", "사용자_일별_집계_".repeat(4)),
        );
        insta::assert_snapshot!(join(&table_statements(
            &long,
            "select 1 as id",
            Some(RelationKind::Table),
            false
        )));
    }
}

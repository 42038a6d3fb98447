//! The statements that check data: dbt's wrapper query that counts a test's failures and
//! judges them, the table that keeps failing rows (`store_failures`), and the query that
//! measures a source's freshness.

use crate::ddl::{create_schema, drop_relation};
use crate::relation::{Relation, RelationKind};

/// How a test's failures are counted and judged (dbt's `fail_calc`, `warn_if`,
/// `error_if` and `limit` configs).
#[derive(Clone, Copy, Debug)]
pub struct FailureRule<'a> {
    pub fail_calc: &'a str,
    pub warn_if: &'a str,
    pub error_if: &'a str,
    pub limit: Option<u64>,
}

/// One row: `failures`, `should_warn`, `should_error`, over the rows `sql` returns.
pub fn test_result_query(sql: &str, rule: &FailureRule) -> String {
    let limit = rule
        .limit
        .map(|n| format!("\n    limit {n}"))
        .unwrap_or_default();
    format!(
        "select\n    {calc} as failures,\n    {calc} {warn} as should_warn,\n    {calc} {error} as should_error\nfrom (\n    {sql}{limit}\n) dbt_internal_test",
        calc = rule.fail_calc,
        warn = rule.warn_if,
        error = rule.error_if,
        sql = sql.trim(),
    )
}

/// Replaces `target` with a table of the rows `sql` returns; run in ONE transaction.
/// dbt's `collect_freshness` for PostgreSQL: the newest `loaded_at` value (an expression,
/// as the project writes it) and the time now, both as ISO 8601 text, and the age in
/// seconds. `extract(epoch ...)` reads a `timestamp` without time zone as UTC, as dbt does.
pub fn freshness_query(source: &Relation, loaded_at: &str, filter: Option<&str>) -> String {
    let filter = filter.map_or(String::new(), |f| format!("\nwhere {f}"));
    format!(
        "select to_json(max({loaded_at}))#>>'{{}}' as max_loaded_at,\n\
         \x20      to_json(now())#>>'{{}}' as snapshotted_at,\n\
         \x20      extract(epoch from now()) - extract(epoch from max({loaded_at})) as age_seconds\n\
         from {source}{filter}"
    )
}

/// Replaces `target` (of kind `existing`, if any) with a table or a view (`as_view`) of
/// the rows `sql` returns; run in ONE transaction.
pub fn store_failures_statements(
    target: &Relation,
    sql: &str,
    existing: Option<RelationKind>,
    as_view: bool,
) -> Vec<String> {
    let mut statements = vec![create_schema(&target.schema)];
    if let Some(kind) = existing {
        statements.push(drop_relation(target, kind));
    }
    let kind = if as_view { "view" } else { "table" };
    statements.push(format!("create {kind} {target} as (\n{}\n)", sql.trim()));
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_the_test_query_like_dbt() {
        let rule = FailureRule {
            fail_calc: "count(*)",
            warn_if: "!= 0",
            error_if: "> 10",
            limit: Some(5),
        };
        insta::assert_snapshot!(test_result_query("select 1\n", &rule), @r"
        select
            count(*) as failures,
            count(*) != 0 as should_warn,
            count(*) > 10 as should_error
        from (
            select 1
            limit 5
        ) dbt_internal_test
        ");
        let target = Relation::new(None, "s_dbt_test__audit", "unique_t_id");
        assert_eq!(
            store_failures_statements(&target, "select 1", Some(RelationKind::Table), false),
            vec![
                r#"select pg_catalog.pg_advisory_xact_lock(1835102836, pg_catalog.hashtext('s_dbt_test__audit')); create schema if not exists "s_dbt_test__audit""#.to_string(),
                r#"drop table if exists "s_dbt_test__audit"."unique_t_id" cascade"#.to_string(),
                "create table \"s_dbt_test__audit\".\"unique_t_id\" as (\nselect 1\n)".to_string(),
            ]
        );
        // A view where a table was: the table goes first.
        let statements =
            store_failures_statements(&target, "select 1", Some(RelationKind::Table), true);
        assert_eq!(
            statements[1..],
            [
                r#"drop table if exists "s_dbt_test__audit"."unique_t_id" cascade"#.to_string(),
                "create view \"s_dbt_test__audit\".\"unique_t_id\" as (\nselect 1\n)".to_string(),
            ]
        );
        assert_eq!(
            store_failures_statements(&target, "select 1", None, true).len(),
            2
        );
    }
}

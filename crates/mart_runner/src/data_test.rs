//! Data tests: the test's query (compiled to target/compiled) wrapped in dbt's failure
//! count, judged by severity, warn_if and error_if; failing rows kept in the audit schema
//! with store_failures.

use mart_adapter::{store_failures_statements, test_result_query, FailureRule};
use mart_compiler::{write_artifact, Severity, StoreFailuresAs};
use mart_diagnostics::{Code, Diagnostic};
use mart_graph::NodeId;
use mart_postgres::Connection;

use crate::materialize::{compile_to_file, db_error};
use crate::schedule::RunContext;
use crate::{NodeStatus, Ran};

pub(crate) async fn run(
    ctx: &RunContext,
    id: &NodeId,
    connection: &mut Connection,
) -> Result<Ran, Diagnostic> {
    let manifest = &ctx.manifest;
    let (node, test) = manifest
        .node(id)
        .and_then(|n| n.test.as_ref().map(|t| (n, t)))
        .ok_or_else(|| Diagnostic::error(Code::UnknownRef, format!("'{id}' is not a test")))?;
    let (compiled, compiled_file) = compile_to_file(ctx, id, false, connection)?;
    let while_testing = || format!("while testing {}", node.name);
    let config = &test.config;
    let mut statements = Vec::new();
    // With store_failures the failing rows are kept in a table, and counted from there.
    let counted_sql = if config.store_failures {
        let as_view = match &config.store_failures_as {
            StoreFailuresAs::Table => false,
            StoreFailuresAs::View => true,
            StoreFailuresAs::Invalid(value) => {
                return Err(Diagnostic::error(
                    Code::Config,
                    format!("'{value}' is not a valid value for store_failures_as; accepted values are: ephemeral, table, view"),
                )
                .with_path(&node.original_file_path)
                .with_help("set store_failures_as to table or view to keep the failing rows, or ephemeral to keep none"));
            }
        };
        let existing = connection
            .relation_kind(&node.relation.schema, &node.relation.identifier)
            .await
            .map_err(|e| db_error(&e, None).with_note(while_testing()))?;
        let store = store_failures_statements(&node.relation, &compiled.sql, existing, as_view);
        connection
            .execute_in_transaction(&store)
            .await
            .map_err(|e| db_error(&e, compiled_file.as_ref()).with_note(while_testing()))?;
        statements.extend(store);
        format!("select * from {}", node.relation)
    } else {
        compiled.sql.clone()
    };
    let rule = FailureRule {
        fail_calc: &config.fail_calc,
        warn_if: &config.warn_if,
        error_if: &config.error_if,
        limit: config.limit,
    };
    let query = test_result_query(&counted_sql, &rule);
    statements.push(query.clone());
    if let Some(path) = manifest.run_path(id) {
        write_artifact(&path, &format!("{};\n", statements.join(";\n\n")))?;
    }
    let table = connection
        .query(&query)
        .await
        .map_err(|e| db_error(&e, compiled_file.as_ref()).with_note(while_testing()))?;
    let row = table.rows.first();
    let cell = |i: usize| row.and_then(|r| r.get(i).cloned().flatten());
    let failures = cell(0)
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0, |v| v.max(0.0) as u64);
    let is_true = |v: Option<String>| v.is_some_and(|v| v == "t" || v == "true");
    let (should_warn, should_error) = (is_true(cell(1)), is_true(cell(2)));
    let noun = if failures == 1 { "result" } else { "results" };
    let (status, message) = if should_error && config.severity == Severity::Error {
        (
            NodeStatus::Fail,
            format!(
                "Got {failures} {noun}, configured to fail if {}",
                config.error_if
            ),
        )
    } else if should_warn || should_error {
        (
            NodeStatus::Warn,
            format!(
                "Got {failures} {noun}, configured to warn if {}",
                config.warn_if
            ),
        )
    } else {
        (NodeStatus::Success, "PASS".to_string())
    };
    Ok(Ran {
        status,
        message,
        rows_affected: None,
        failures: Some(failures),
        compiled_sql: Some(compiled.sql),
        ..Ran::default()
    })
}

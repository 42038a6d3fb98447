//! The materialized_view materialization, as dbt-postgres runs it: created on the first
//! run; refreshed on later runs whose configuration did not change; rebuilt by
//! `--full-refresh` or when another kind of relation has its name. A configuration change
//! (on PostgreSQL, the indexes: the only configuration dbt-postgres compares) follows
//! `on_configuration_change`: `apply` changes the indexes in place (no refresh),
//! `continue` leaves the view as it is with a warning, `fail` fails the model. Everything
//! runs inside the node's transaction.

use std::sync::Arc;

use mart_adapter::{
    drop_index, index_changes, indexes_query, materialized_view_statements, parse_index_row,
    refresh_materialized_view, IndexChanges, IndexShape, RelationKind,
};
use mart_compiler::{write_artifact, Node};
use mart_diagnostics::{Code, Diagnostic, SourceFile};
use mart_postgres::Connection;

use crate::incremental::{config_error, opt_str};
use crate::materialize::db_error;
use crate::schedule::RunContext;
use crate::{Event, Ran};

/// `on_configuration_change`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OnChange {
    Apply,
    Continue,
    Fail,
}

fn on_configuration_change(node: &Node) -> Result<OnChange, Diagnostic> {
    match opt_str(node, "on_configuration_change")?
        .as_deref()
        .map(str::trim)
    {
        None | Some("apply") => Ok(OnChange::Apply),
        Some("continue") => Ok(OnChange::Continue),
        Some("fail") => Ok(OnChange::Fail),
        Some(other) => Err(config_error(
            node,
            "on_configuration_change",
            format!("unknown on_configuration_change '{other}': expected apply, continue or fail"),
        )),
    }
}

/// Builds the materialized view of `node` from its compiled `sql`.
pub(crate) async fn build(
    ctx: &RunContext,
    node: &Node,
    sql: &str,
    compiled_file: Option<&Arc<SourceFile>>,
    existing: Option<RelationKind>,
    full_refresh: bool,
    connection: &mut Connection,
) -> Result<Ran, Diagnostic> {
    let target = &node.relation;
    let on_change = on_configuration_change(node)?;
    let (statements, message) = match existing {
        Some(RelationKind::MaterializedView) if !full_refresh => {
            let changes = index_changes_of(node, connection).await?;
            if changes.is_empty() {
                (
                    vec![refresh_materialized_view(target)],
                    "REFRESH MATERIALIZED VIEW".to_string(),
                )
            } else {
                let what = format!(
                    "Configuration changes were identified and `on_configuration_change` was set to `{}` for `{target}`",
                    match on_change {
                        OnChange::Apply => "apply",
                        OnChange::Continue => "continue",
                        OnChange::Fail => "fail",
                    }
                );
                match on_change {
                    OnChange::Fail => {
                        return Err(Diagnostic::error(Code::Config, what)
                            .with_path(&node.original_file_path)
                            .with_note(describe(&changes))
                            .with_help("set on_configuration_change to apply, or run with --full-refresh to rebuild the view"))
                    }
                    OnChange::Continue => {
                        ctx.reporter.report(&Event::Log {
                            id: node.id.clone(),
                            message: what,
                        });
                        return Ok(Ran {
                            unchanged: true,
                            ..Ran::success(format!("skip {target}"), None, Some(sql.to_string()))
                        });
                    }
                    // The missing indexes are created with the node's other indexes,
                    // after the build.
                    OnChange::Apply => (
                        changes
                            .drop
                            .iter()
                            .map(|name| drop_index(&target.schema, name))
                            .collect(),
                        if changes.create.is_empty() {
                            "DROP INDEX"
                        } else {
                            "CREATE INDEX"
                        }
                        .to_string(),
                    ),
                }
            }
        }
        // First build, --full-refresh, or a table or view in the way.
        other => (
            materialized_view_statements(target, sql, other),
            "CREATE MATERIALIZED VIEW".to_string(),
        ),
    };
    if let Some(path) = ctx.manifest.run_path(&node.id) {
        write_artifact(&path, &format!("{};\n", statements.join(";\n\n")))?;
    }
    connection
        .execute_in_transaction(&statements)
        .await
        .map_err(|e| {
            db_error(&e, compiled_file)
                .with_note(format!("while building model {}", node.original_file_path))
        })?;
    Ok(Ran::success(message, None, Some(sql.to_string())))
}

/// How the view's indexes differ from the configured ones.
async fn index_changes_of(
    node: &Node,
    connection: &Connection,
) -> Result<IndexChanges, Diagnostic> {
    let target = &node.relation;
    let existing: Vec<_> = connection
        .query(&indexes_query(&target.schema, &target.identifier))
        .await
        .map_err(|e| db_error(&e, None))?
        .rows
        .iter()
        .filter_map(|row| parse_index_row(row))
        .collect();
    let wanted: Vec<IndexShape> = node
        .config
        .indexes
        .iter()
        .map(|i| IndexShape::new(&i.columns, i.unique, i.method.as_deref()))
        .collect();
    Ok(index_changes(&existing, &wanted))
}

/// One line naming the index changes, for an error note.
fn describe(changes: &IndexChanges) -> String {
    let shape = |s: &IndexShape| {
        format!(
            "{}({}) using {}",
            if s.unique { "unique " } else { "" },
            s.columns.iter().cloned().collect::<Vec<_>>().join(", "),
            s.method
        )
    };
    let mut parts = Vec::new();
    if !changes.drop.is_empty() {
        parts.push(format!("indexes to drop: {}", changes.drop.join(", ")));
    }
    if !changes.create.is_empty() {
        parts.push(format!(
            "indexes to create: {}",
            changes
                .create
                .iter()
                .map(shape)
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    parts.join("; ")
}

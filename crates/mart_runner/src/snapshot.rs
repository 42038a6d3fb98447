//! Snapshots: the query staged into a temporary table, then the snapshot table created
//! (first run) or brought up to date (later runs) in ONE transaction.

use mart_adapter::incremental::{drop_temp, temp_relation, temp_table_statements};
use mart_adapter::snapshot::{
    first_build_statements, update_statements, HardDeletes, MetaColumns, Snapshot, SnapshotStrategy,
};
use mart_adapter::RelationKind;
use mart_compiler::{write_artifact, Node};
use mart_diagnostics::{Code, Diagnostic};
use mart_graph::NodeId;
use mart_postgres::Connection;

use crate::incremental::{config_error, opt_str, resolve_columns, string_list, temp_schema};
use crate::materialize::{compile_to_file, db_error};
use crate::schedule::RunContext;
use crate::Ran;

/// A snapshot's configs as written (columns not yet checked against the query).
#[derive(Clone, Debug)]
struct SnapshotConfig {
    unique_key: Vec<String>,
    strategy: StrategyConfig,
    hard_deletes: HardDeletes,
    meta: MetaColumns,
    valid_to_current: Option<String>,
}

#[derive(Clone, Debug)]
enum StrategyConfig {
    Timestamp { updated_at: String },
    Check { columns: Option<Vec<String>> },
}

/// Reads `strategy`, `unique_key`, `updated_at`, `check_cols`, `hard_deletes` (or
/// `invalidate_hard_deletes`), `snapshot_meta_column_names` and `dbt_valid_to_current`.
fn config(node: &Node) -> Result<SnapshotConfig, Diagnostic> {
    let unique_key = string_list(node, "unique_key")?.unwrap_or_default();
    if unique_key.is_empty() {
        return Err(
            config_error(node, "unique_key", "a snapshot needs a unique_key".into()).with_help(
                "set unique_key to the column (or list of columns) that identifies a row",
            ),
        );
    }
    let strategy = match opt_str(node, "strategy")?.as_deref().map(str::trim) {
        Some("timestamp") => match opt_str(node, "updated_at")? {
            Some(updated_at) if !updated_at.trim().is_empty() => StrategyConfig::Timestamp {
                updated_at: updated_at.trim().to_string(),
            },
            _ => {
                return Err(config_error(
                    node,
                    "updated_at",
                    "strategy 'timestamp' needs updated_at".into(),
                )
                .with_help("set updated_at to the column holding when a row last changed"))
            }
        },
        Some("check") => {
            let columns = match string_list(node, "check_cols")? {
                Some(list) if list.len() == 1 && list[0] == "all" => None,
                Some(list) => Some(list),
                None => {
                    return Err(config_error(
                        node,
                        "check_cols",
                        "strategy 'check' needs check_cols".into(),
                    )
                    .with_help("set check_cols to a list of columns, or to 'all'"))
                }
            };
            StrategyConfig::Check { columns }
        }
        other => {
            let found = other.map_or("no strategy".to_string(), |s| format!("strategy '{s}'"));
            return Err(config_error(
                node,
                "strategy",
                format!("{found}: expected timestamp or check"),
            )
            .with_help(
                "set strategy='timestamp' (with updated_at) or strategy='check' (with check_cols)",
            ));
        }
    };
    let legacy = node
        .config
        .bool("invalidate_hard_deletes")
        .map_err(|e| config_error(node, "invalidate_hard_deletes", e.to_string()))?
        .unwrap_or(false);
    let hard_deletes = HardDeletes::parse(opt_str(node, "hard_deletes")?.as_deref(), legacy)
        .map_err(|m| config_error(node, "hard_deletes", m))?;
    let renames = node
        .config
        .string_map("snapshot_meta_column_names")
        .map_err(|e| config_error(node, "snapshot_meta_column_names", e.to_string()))?;
    let meta = MetaColumns::with_names(&renames)
        .map_err(|m| config_error(node, "snapshot_meta_column_names", m))?;
    Ok(SnapshotConfig {
        unique_key,
        strategy,
        hard_deletes,
        meta,
        valid_to_current: opt_str(node, "dbt_valid_to_current")?
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty()),
    })
}

/// Runs one snapshot. Its status message is `INSERT n` on the first run, else
/// `INSERT n, UPDATE m` (versions added and closed); rows affected is their sum.
pub(crate) async fn run(
    ctx: &RunContext,
    id: &NodeId,
    connection: &mut Connection,
) -> Result<Ran, Diagnostic> {
    let node = ctx.node(id)?;
    let cfg = config(node)?;
    let (compiled, compiled_file) = compile_to_file(ctx, id, false, connection)?;
    // dbt builds snapshots with create_table_as, which puts the sql_header first.
    crate::sql_header::run(node, connection).await?;
    let while_building = || format!("while building snapshot {}", node.original_file_path);
    let target = &node.relation;
    let existing = ctx
        .catalog
        .kind(connection, &target.schema, &target.identifier)
        .await
        .map_err(|e| db_error(&e, None))?;
    if let Some(kind) = existing.filter(|k| *k != RelationKind::Table) {
        return Err(Diagnostic::error(
            Code::Config,
            format!("{target} is a {}, not a snapshot table", kind.sql_keyword()),
        )
        .with_path(&node.original_file_path)
        .with_help("drop it, or give the snapshot another name or target_schema"));
    }

    let source = temp_relation(target);
    let staged = temp_table_statements(&source, &compiled.sql);
    connection
        .execute_in_transaction(&staged)
        .await
        .map_err(|e| db_error(&e, compiled_file.as_ref()).with_note(while_building()))?;
    let result = apply(
        ctx,
        id,
        node,
        &cfg,
        &source,
        &staged,
        existing.is_some(),
        connection,
    )
    .await;
    if result.is_err() {
        // Best effort: temporary tables die with the session anyway.
        let _ = connection.execute(&drop_temp(&source)).await;
    }
    let (message, rows) = result.map_err(|d| d.with_note(while_building()))?;
    Ok(Ran::success(message, rows, Some(compiled.sql)))
}

#[allow(clippy::too_many_arguments)]
async fn apply(
    ctx: &RunContext,
    id: &NodeId,
    node: &Node,
    cfg: &SnapshotConfig,
    source: &mart_adapter::Relation,
    staged: &[String],
    exists: bool,
    connection: &mut Connection,
) -> Result<(String, Option<u64>), Diagnostic> {
    let target = &node.relation;
    let schema = temp_schema(connection).await?;
    let source_columns = connection
        .columns(&schema, &source.identifier)
        .await
        .map_err(|e| db_error(&e, None))?;
    let names: Vec<String> = source_columns.iter().map(|(n, _)| n.clone()).collect();
    let meta_names = cfg.meta.names(cfg.hard_deletes);
    if let Some(clash) = names.iter().find(|n| meta_names.contains(&n.as_str())) {
        return Err(config_error(
            node,
            "snapshot_meta_column_names",
            format!("the query selects a column named '{clash}', which is a snapshot meta column"),
        )
        .with_help("rename the column in the query, or rename the meta column with snapshot_meta_column_names"));
    }
    let unique_key = resolve_columns(node, "unique_key", &cfg.unique_key, &names)?;
    let strategy = match &cfg.strategy {
        StrategyConfig::Timestamp { updated_at } => SnapshotStrategy::Timestamp {
            updated_at: resolve_columns(
                node,
                "updated_at",
                std::slice::from_ref(updated_at),
                &names,
            )?
            .remove(0),
        },
        StrategyConfig::Check { columns: None } => SnapshotStrategy::Check {
            columns: names.clone(),
        },
        StrategyConfig::Check {
            columns: Some(columns),
        } => SnapshotStrategy::Check {
            columns: resolve_columns(node, "check_cols", columns, &names)?,
        },
    };
    let snapshot = Snapshot {
        target,
        source,
        source_columns: &source_columns,
        unique_key: &unique_key,
        strategy: &strategy,
        hard_deletes: cfg.hard_deletes,
        meta: &cfg.meta,
        valid_to_current: cfg.valid_to_current.as_deref(),
    };
    let (statements, counted) = if exists {
        let target_columns = connection
            .columns(&target.schema, &target.identifier)
            .await
            .map_err(|e| db_error(&e, None))?;
        let required = cfg.meta.names(HardDeletes::Ignore);
        let missing: Vec<&str> = required
            .into_iter()
            .filter(|m| !target_columns.iter().any(|(n, _)| n == m))
            .collect();
        if !missing.is_empty() {
            return Err(Diagnostic::error(
                Code::Config,
                format!(
                    "{target} is not a snapshot table with these meta columns: it has no {}",
                    missing.join(", ")
                ),
            )
            .with_path(&node.original_file_path)
            .with_help("drop the table to rebuild the snapshot, or set snapshot_meta_column_names to the names it uses"));
        }
        let (statements, update, insert) = update_statements(&snapshot, &target_columns);
        (statements, Some((update, insert)))
    } else {
        (first_build_statements(&snapshot), None)
    };
    if let Some(path) = ctx.manifest.run_path(id) {
        let all: Vec<&str> = staged
            .iter()
            .chain(statements.iter())
            .map(String::as_str)
            .collect();
        write_artifact(&path, &format!("{};\n", all.join(";\n\n")))?;
    }
    let counts = connection
        .execute_in_transaction(&statements)
        .await
        .map_err(|e| db_error(&e, None))?;
    let count = |i: usize| counts.get(i).copied().unwrap_or(0);
    Ok(match counted {
        None => (format!("INSERT {}", count(0)), Some(count(0))),
        Some((update, insert)) => (
            format!("INSERT {}, UPDATE {}", count(insert), count(update)),
            Some(count(insert) + count(update)),
        ),
    })
}

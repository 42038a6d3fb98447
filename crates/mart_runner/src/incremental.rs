//! The incremental materialization's runs after the first: new rows into a temporary
//! table, then the schema changes and the strategy's DML on the target in ONE transaction.

use std::path::PathBuf;
use std::sync::Arc;

use mart_adapter::incremental::{
    apply_statements, dest_columns, drop_temp, schema_changes, temp_relation,
    temp_table_statements, Apply, OnSchemaChange, Strategy,
};
use mart_compiler::{config_error_at, write_artifact, Manifest, Node};
use mart_diagnostics::{Code, Diagnostic, SourceFile};
use mart_postgres::Connection;

use crate::materialize::{db_error, labelled_path};

/// The incremental configs of a model, validated.
#[derive(Clone, Debug)]
pub(crate) struct IncrementalConfig {
    pub strategy: Strategy,
    pub unique_key: Vec<String>,
    pub on_schema_change: OnSchemaChange,
    pub merge_update_columns: Option<Vec<String>>,
    pub merge_exclude_columns: Vec<String>,
}

/// Reads `incremental_strategy`, `unique_key`, `on_schema_change`,
/// `merge_update_columns` and `merge_exclude_columns` from the node's config.
pub(crate) fn config(node: &Node) -> Result<IncrementalConfig, Diagnostic> {
    let unique_key = string_list(node, "unique_key")?.unwrap_or_default();
    let strategy = Strategy::parse(
        opt_str(node, "incremental_strategy")?.as_deref(),
        !unique_key.is_empty(),
    )
    .map_err(|m| config_error(node, "incremental_strategy", m))?;
    if strategy.needs_unique_key() && unique_key.is_empty() {
        return Err(config_error(
            node,
            "incremental_strategy",
            format!("incremental_strategy '{strategy}' needs a unique_key"),
        )
        .with_help("set unique_key to a column or a list of columns"));
    }
    let on_schema_change = OnSchemaChange::parse(opt_str(node, "on_schema_change")?.as_deref())
        .map_err(|m| config_error(node, "on_schema_change", m))?;
    Ok(IncrementalConfig {
        strategy,
        unique_key,
        on_schema_change,
        merge_update_columns: string_list(node, "merge_update_columns")?,
        merge_exclude_columns: string_list(node, "merge_exclude_columns")?.unwrap_or_default(),
    })
}

pub(crate) fn opt_str(node: &Node, key: &str) -> Result<Option<String>, Diagnostic> {
    node.config
        .string(key)
        .map_err(|e| config_error(node, key, e.to_string()))
}

/// A string or a list of strings.
pub(crate) fn string_list(node: &Node, key: &str) -> Result<Option<Vec<String>>, Diagnostic> {
    node.config
        .name_list(key)
        .map_err(|e| config_error(node, key, e.to_string()))
}

/// A config error pointing at the first mention of `key` in the node's file, or at the file.
pub(crate) fn config_error(node: &Node, key: &str, message: String) -> Diagnostic {
    let message = format!("{} '{}': {message}", node.resource_type.as_str(), node.name);
    match &node.file {
        Some(file) => config_error_at(file, key, message),
        None => Diagnostic::error(Code::Config, message).with_path(&node.original_file_path),
    }
}

/// Maps configured column names to the source's (exact match first, then ignoring case);
/// an error names the missing ones.
pub(crate) fn resolve_columns(
    node: &Node,
    key: &str,
    wanted: &[String],
    available: &[String],
) -> Result<Vec<String>, Diagnostic> {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for w in wanted {
        let found = available
            .iter()
            .find(|a| *a == w)
            .or_else(|| available.iter().find(|a| a.eq_ignore_ascii_case(w)));
        match found {
            Some(a) => out.push(a.clone()),
            None => missing.push(w.clone()),
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(config_error(
            node,
            key,
            format!(
                "{key} names columns the {} does not select: {}",
                node.resource_type.as_str(),
                missing.join(", ")
            ),
        )
        .with_note(format!("selected columns: {}", available.join(", "))))
    }
}

/// Applies the model's new rows to the existing table; returns the status message
/// (`INSERT n` / `MERGE n`) and the row count.
pub(crate) async fn run(
    manifest: &Manifest,
    node: &Node,
    cfg: &IncrementalConfig,
    sql: &str,
    compiled_file: Option<&Arc<SourceFile>>,
    connection: &mut Connection,
    batch_label: Option<&str>,
) -> Result<(String, Option<u64>), Diagnostic> {
    let target = &node.relation;
    let tmp = temp_relation(target);
    let while_building = || format!("while building model {}", node.original_file_path);
    let temp_statements = temp_table_statements(&tmp, sql);
    connection
        .execute_in_transaction(&temp_statements)
        .await
        .map_err(|e| db_error(&e, compiled_file).with_note(while_building()))?;

    let run_path = manifest
        .run_path(&node.id)
        .map(|p| labelled_path(p, batch_label));
    let result = apply(node, cfg, &tmp, &temp_statements, connection, run_path).await;
    if result.is_err() {
        // Best effort: the temporary table dies with the session anyway.
        let _ = connection.execute(&drop_temp(&tmp)).await;
    }
    result
}

/// The name of this session's temporary schema (`pg_temp_N`), where temporary tables live.
pub(crate) async fn temp_schema(connection: &Connection) -> Result<String, Diagnostic> {
    connection
        .query("select nspname::text from pg_catalog.pg_namespace where oid = pg_catalog.pg_my_temp_schema()")
        .await
        .map_err(|e| db_error(&e, None))?
        .rows
        .first()
        .and_then(|r| r.first().cloned().flatten())
        .ok_or_else(|| {
            Diagnostic::error(
                Code::Database,
                "the temporary schema of this session was not found",
            )
        })
}

async fn apply(
    node: &Node,
    cfg: &IncrementalConfig,
    tmp: &mart_adapter::Relation,
    temp_statements: &[String],
    connection: &mut Connection,
    run_path: Option<PathBuf>,
) -> Result<(String, Option<u64>), Diagnostic> {
    let target = &node.relation;
    let while_building = || format!("while building model {}", node.original_file_path);
    let temp_schema = temp_schema(connection)
        .await
        .map_err(|d| d.with_note(while_building()))?;
    let source_columns = connection
        .columns(&temp_schema, &tmp.identifier)
        .await
        .map_err(|e| db_error(&e, None).with_note(while_building()))?;
    let target_columns = connection
        .columns(&target.schema, &target.identifier)
        .await
        .map_err(|e| db_error(&e, None).with_note(while_building()))?;

    let changes = schema_changes(&target_columns, &source_columns);
    if cfg.on_schema_change == OnSchemaChange::Fail && !changes.is_empty() {
        let mut d = Diagnostic::error(
            Code::Config,
            format!(
                "the columns of incremental model '{}' differ from those of {target} (on_schema_change='fail')",
                node.name
            ),
        )
        .with_path(&node.original_file_path);
        for line in changes.describe() {
            d = d.with_note(line);
        }
        return Err(d.with_help(
            "set on_schema_change to append_new_columns or sync_all_columns, run with --full-refresh, or change the table by hand",
        ));
    }
    let columns = dest_columns(&target_columns, &source_columns, cfg.on_schema_change);
    if columns.is_empty() {
        return Err(Diagnostic::error(
            Code::Config,
            format!(
                "incremental model '{}' has no column in common with {target}",
                node.name
            ),
        )
        .with_path(&node.original_file_path)
        .with_help("run with --full-refresh or set on_schema_change"));
    }
    let unique_key = if cfg.strategy.needs_unique_key() {
        resolve_columns(node, "unique_key", &cfg.unique_key, &columns)?
    } else {
        Vec::new()
    };
    let update_columns = match &cfg.merge_update_columns {
        Some(list) => resolve_columns(node, "merge_update_columns", list, &columns)?,
        None => {
            let exclude = resolve_columns(
                node,
                "merge_exclude_columns",
                &cfg.merge_exclude_columns,
                &columns,
            )?;
            columns
                .iter()
                .filter(|c| !exclude.contains(c))
                .cloned()
                .collect()
        }
    };
    let (statements, counted) = apply_statements(
        &Apply {
            strategy: cfg.strategy,
            target,
            tmp,
            columns: &columns,
            unique_key: &unique_key,
            update_columns: &update_columns,
        },
        &changes,
        cfg.on_schema_change,
    );
    if let Some(path) = run_path {
        let all: Vec<&String> = temp_statements.iter().chain(statements.iter()).collect();
        let text = all
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(";\n\n");
        write_artifact(&path, &format!("{text};\n"))?;
    }
    let counts = connection
        .execute_in_transaction(&statements)
        .await
        .map_err(|e| db_error(&e, None).with_note(while_building()))?;
    let rows = counts.get(counted).copied();
    Ok((
        format!("{} {}", cfg.strategy.command(), rows.unwrap_or(0)),
        rows,
    ))
}

//! Materializations of models: view, table (atomic swap), incremental (and its
//! microbatch batches) and materialized view.

use std::path::PathBuf;
use std::sync::Arc;

use crate::PgQueryRunner;
use mart_adapter::{
    contract_table_statements, table_statements, view_replace_statements, view_statements,
    ContractTable, RelationKind,
};
use mart_compiler::{write_artifact, CompiledNode, Compiler, Node};
use mart_diagnostics::{Code, Diagnostic, SourceFile, Span};
use mart_graph::NodeId;
use mart_postgres::{Connection, PgError};
use mart_project::Materialization;

use crate::contract;
use crate::incremental;
use crate::materialized_view;
use crate::microbatch::BatchRun;
use crate::schedule::RunContext;
use crate::sql_header;
use crate::Event;
use crate::Ran;

/// SQLSTATE of `create or replace view` when the column list changed.
const INVALID_TABLE_DEFINITION: &str = "42P16";

/// Compiles and materializes one model, or one batch of a microbatch model.
pub(crate) async fn model(
    ctx: &RunContext,
    node: &Node,
    connection: &mut Connection,
    batch: Option<&BatchRun<'_>>,
) -> Result<Ran, Diagnostic> {
    let manifest = &ctx.manifest;
    let id = &node.id;
    let relation = &node.relation;
    // A batch after the first sees what the earlier batches built: asked afresh.
    let existing = match batch {
        Some(_) => {
            connection
                .relation_kind(&relation.schema, &relation.identifier)
                .await
        }
        None => {
            ctx.catalog
                .kind(connection, &relation.schema, &relation.identifier)
                .await
        }
    }
    .map_err(|e| db_error(&e, None))?;
    // dbt: a `full_refresh` config wins over the --full-refresh flag.
    let full_refresh = node.config.full_refresh.unwrap_or(ctx.options.full_refresh);
    let incremental_config = match (batch, &node.config.materialized) {
        (Some(batch), _) => Some(batch.config.clone()),
        (None, Materialization::Incremental) => Some(incremental::config(node)?),
        _ => None,
    };
    let is_incremental = match batch {
        Some(batch) => batch.incremental,
        None => {
            incremental_config.is_some() && existing == Some(RelationKind::Table) && !full_refresh
        }
    };
    let (compiled, compiled_file) =
        compile_batch_to_file(ctx, id, is_incremental, connection, batch)?;
    if node.config.materialized == Materialization::MaterializedView {
        // dbt-postgres builds materialized views without the sql_header.
        return materialized_view::build(
            ctx,
            node,
            &compiled.sql,
            compiled_file.as_ref(),
            existing,
            full_refresh,
            connection,
        )
        .await;
    }
    let header = sql_header::run(node, connection).await?;
    if let Some(message) = contract::unenforced_constraints_warning(node) {
        ctx.reporter.report(&Event::Log {
            id: id.clone(),
            message,
        });
    }
    // Checked before any data is replaced, on every run (incremental ones too).
    let contract_columns = node
        .config
        .contract
        .enforced
        .then(|| contract::columns(node));
    if let Some(columns) = &contract_columns {
        contract::check(
            node,
            columns,
            &compiled.sql,
            compiled_file.as_ref(),
            connection,
        )
        .await?;
    }
    if let (true, Some(cfg)) = (is_incremental, &incremental_config) {
        let (message, rows) = incremental::run(
            manifest,
            node,
            cfg,
            &compiled.sql,
            compiled_file.as_ref(),
            connection,
            batch.map(|b| b.label.as_str()),
        )
        .await?;
        return Ok(Ran::success(message, rows, Some(compiled.sql)));
    }
    let statements = match &node.config.materialized {
        Materialization::View => view_statements(relation, &compiled.sql, existing),
        // An incremental model's first run, a full refresh, or a view in the way.
        Materialization::Table | Materialization::Incremental => match &contract_columns {
            Some(columns) => contract_table_statements(
                relation,
                &compiled.sql,
                existing,
                node.config.unlogged,
                &ContractTable {
                    columns,
                    constraints: &node.constraints,
                    parents: &contract::parents(manifest, node)?,
                },
            ),
            None => table_statements(relation, &compiled.sql, existing, node.config.unlogged),
        },
        other => {
            return Err(Diagnostic::error(
                Code::Config,
                format!("materialized='{other}' is not supported by this version of mart"),
            )
            .with_path(&node.original_file_path)
            .with_help("use view, table, incremental or ephemeral"))
        }
    };
    if let Some(path) = manifest.run_path(id) {
        let text = header
            .iter()
            .chain(&statements)
            .cloned()
            .collect::<Vec<_>>();
        write_artifact(
            &labelled_path(path, batch.map(|b| b.label.as_str())),
            &format!("{};\n", text.join(";\n\n")),
        )?;
    }
    let counts = match connection.execute_in_transaction(&statements).await {
        Err(e)
            if node.config.materialized == Materialization::View
                && e.sqlstate() == Some(INVALID_TABLE_DEFINITION) =>
        {
            connection
                .execute_in_transaction(&view_replace_statements(relation, &compiled.sql))
                .await
        }
        other => other,
    }
    .map_err(|e| {
        db_error(&e, compiled_file.as_ref())
            .with_note(format!("while building model {}", node.original_file_path))
    })?;
    let (message, rows) = match node.config.materialized {
        Materialization::Table | Materialization::Incremental => {
            // The row count of `create table ... as`: the statement that holds the model SQL.
            let rows = statements
                .iter()
                .position(|s| s.contains(&compiled.sql))
                .and_then(|i| counts.get(i).copied());
            (format!("SELECT {}", rows.unwrap_or(0)), rows)
        }
        _ => ("CREATE VIEW".to_string(), None),
    };
    Ok(Ran::success(message, rows, Some(compiled.sql)))
}

/// Compiles a node (run_query() may block on the database: off the async workers) and
/// writes its SQL to target/compiled; the compiled file is what database errors point into.
pub(crate) fn compile_to_file(
    ctx: &RunContext,
    id: &NodeId,
    is_incremental: bool,
    connection: &Connection,
) -> Result<(CompiledNode, Option<Arc<SourceFile>>), Diagnostic> {
    compile_batch_to_file(ctx, id, is_incremental, connection, None)
}

/// [`compile_to_file`] for one batch of a microbatch model (its refs filtered to the
/// batch, its SQL in the batch's file).
fn compile_batch_to_file(
    ctx: &RunContext,
    id: &NodeId,
    is_incremental: bool,
    connection: &Connection,
    batch: Option<&BatchRun<'_>>,
) -> Result<(CompiledNode, Option<Arc<SourceFile>>), Diagnostic> {
    let window = batch.map(|b| b.window.clone());
    let label = batch.map(|b| b.label.as_str());
    compile_labelled(ctx, id, connection, label, |compiler| {
        compiler.with_batch(window).compile(id, is_incremental)
    })
}

/// Where a batch's compiled or run SQL goes, as dbt writes it: `models/m.sql` ->
/// `models/m/m_2024-01-01.sql`; the node's own path when there is no batch label.
pub(crate) fn labelled_path(path: PathBuf, label: Option<&str>) -> PathBuf {
    let Some(label) = label else {
        return path;
    };
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_extension("").join(format!("{stem}_{label}.sql"))
}

/// Runs `compile` with a compiler whose run_query() uses the node's own session (it sees
/// what the node's transaction did so far, as in dbt), then reports its logs and writes
/// the SQL to target/compiled.
pub(crate) fn compile_with(
    ctx: &RunContext,
    id: &NodeId,
    connection: &Connection,
    compile: impl FnOnce(Compiler<'_>) -> Result<CompiledNode, Diagnostic>,
) -> Result<(CompiledNode, Option<Arc<SourceFile>>), Diagnostic> {
    compile_labelled(ctx, id, connection, None, compile)
}

/// [`compile_with`], the SQL written to the file of batch `batch_label` when given.
fn compile_labelled(
    ctx: &RunContext,
    id: &NodeId,
    connection: &Connection,
    batch_label: Option<&str>,
    compile: impl FnOnce(Compiler<'_>) -> Result<CompiledNode, Diagnostic>,
) -> Result<(CompiledNode, Option<Arc<SourceFile>>), Diagnostic> {
    if let Some(error) = ctx.analysis.error_for(id) {
        return Err(error.clone());
    }
    let manifest = &ctx.manifest;
    let runner = PgQueryRunner::for_node(connection);
    let compiled = tokio::task::block_in_place(|| {
        compile(
            Compiler::new(manifest, &ctx.env, Some(runner.clone()))
                .with_empty_inputs(ctx.options.empty),
        )
    });
    // The template's queries (run_query, statement blocks) may have changed any relation.
    if runner.ran() {
        ctx.catalog.forget_all();
    }
    let compiled = compiled?;
    for message in &compiled.logs {
        ctx.reporter.report(&Event::Log {
            id: id.clone(),
            message: message.clone(),
        });
    }
    let compiled_path = manifest
        .compiled_path(id)
        .map(|p| labelled_path(p, batch_label));
    if let Some(path) = &compiled_path {
        write_artifact(path, &compiled.sql)?;
    }
    let compiled_file = compiled_path.map(|p| {
        let relative = p.strip_prefix(&manifest.root).unwrap_or(&p).to_path_buf();
        Arc::new(SourceFile::new(relative, compiled.sql.clone()))
    });
    Ok((compiled, compiled_file))
}

/// The SQLSTATE note [`db_error`] writes.
fn sqlstate_note(code: &str) -> String {
    format!("SQLSTATE {code}")
}

/// Whether `d` is PostgreSQL's deadlock error (SQLSTATE 40P01): the server rolled the
/// transaction back to free another, so running it again is safe.
pub(crate) fn is_deadlock(d: &Diagnostic) -> bool {
    d.notes.contains(&sqlstate_note("40P01"))
}

/// A database error as a diagnostic: SQLSTATE, detail and hint as notes; when the
/// failing statement embeds the compiled SQL and PostgreSQL gave a position, the span
/// points into the compiled file.
pub(crate) fn db_error(e: &PgError, compiled: Option<&Arc<SourceFile>>) -> Diagnostic {
    let mut d = Diagnostic::error(Code::Database, e.message().to_string());
    if let (Some(file), Some(statement), Some(offset)) = (compiled, e.statement(), e.byte_offset())
    {
        if let Some(start) = statement.find(&*file.text) {
            if offset >= start && offset < start + file.text.len() {
                let at = offset - start;
                let end = file.text[at..]
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '"'))
                    .map_or(file.text.len(), |n| at + n.max(1));
                d = d.with_span(Span::new(file.clone(), at..end));
            }
        }
    }
    if d.span.is_none() {
        if let Some(file) = compiled {
            d = d.with_path(&file.path);
        }
    }
    if let Some(code) = e.sqlstate() {
        d = d.with_note(sqlstate_note(code));
    }
    if let Some(detail) = e.detail() {
        d = d.with_note(detail.to_string());
    }
    if let Some(hint) = e.hint() {
        d = d.with_help(hint.to_string());
    }
    d
}

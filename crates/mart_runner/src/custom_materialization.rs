//! Models built by a materialization block (`{% materialization name, default %}` in the
//! project or an installed package, or the root project's own `table`, `view`,
//! `incremental`): the block runs in the node's session, inside the node's transaction,
//! and does everything itself (hooks through `run_hooks`, indexes, grants, comments), as
//! in dbt. What it returns decides the result: `{'relations': [...]}` and a
//! `statement('main')`, whose command tag is the message. As dbt on PostgreSQL, the work of
//! a block that never calls `adapter.commit()` is rolled back (with a warning here).

use mart_adapter::RelationKind;
use mart_compiler::{write_artifact, Compiler, Node};
use mart_diagnostics::{Code, Diagnostic};
use mart_jinja::{MaterializationChoice, MaterializationError};
use mart_postgres::Connection;
use mart_project::Materialization;

use crate::materialize::{compile_to_file, db_error};
use crate::schedule::RunContext;
use crate::{dependents, Event, PgQueryRunner, Ran};

/// The materializations mart builds itself, which a root project block may replace.
const BUILT_IN: [&str; 4] = ["view", "table", "incremental", "materialized_view"];

/// The block (package, macro) a model runs, or none when mart's own materialization
/// builds it. Reports dbt's deprecation when a package replaces a built-in one.
pub(crate) fn block_for(
    ctx: &RunContext,
    node: &Node,
) -> Result<Option<(String, String)>, Diagnostic> {
    let name = node.config.materialized.as_str();
    if node.config.materialized == Materialization::Ephemeral {
        return Ok(None);
    }
    let builtin = BUILT_IN.contains(&name);
    match ctx.env.materialization(name, builtin) {
        Ok((MaterializationChoice::Builtin, _)) => Ok(None),
        Ok((
            MaterializationChoice::Block {
                package,
                macro_name,
            },
            overridden_by,
        )) => {
            if let Some(by) = overridden_by {
                ctx.reporter.report(&Event::Log {
                    id: node.id.clone(),
                    message: format!(
                        "warning: installed package '{by}' replaces the built-in materialization '{name}'; dbt deprecates this (it is allowed only while the flag require_explicit_package_overrides_for_builtin_materializations is false): move the block into the root project to keep it"
                    ),
                });
            }
            Ok(Some((package, macro_name)))
        }
        Err(MaterializationError::Unknown) => Err(Diagnostic::error(
            Code::Config,
            format!("no materialization '{name}' was found for adapter postgres (searched 'postgres' and 'default')"),
        )
        .with_path(&node.original_file_path)
        .with_help("define it with {% materialization name, default %} in a macro file, or use view, table, incremental or ephemeral")),
        Err(MaterializationError::Duplicate { first, second }) => Err(Diagnostic::error(
            Code::Config,
            format!("materialization '{name}' is defined for the same adapter by both '{first}' and '{second}'"),
        )
        .with_path(&node.original_file_path)
        .with_help("remove one of the definitions, or define the one to use in the root project")),
    }
}

/// `begin`, the block, `commit` (the views its cascade dropped recreated before);
/// `rollback` on any failure, or when the block never committed.
pub(crate) async fn build(
    ctx: &RunContext,
    node: &Node,
    (package, macro_name): (String, String),
    connection: &mut Connection,
) -> Result<Ran, Diagnostic> {
    connection.begin().await.map_err(|e| db_error(&e, None))?;
    match build_in_transaction(ctx, node, &package, &macro_name, connection).await {
        Ok((ran, true)) => connection
            .commit()
            .await
            .map(|()| ran)
            .map_err(|e| db_error(&e, None)),
        Ok((ran, false)) => {
            ctx.reporter.report(&Event::Log {
                id: node.id.clone(),
                message: format!(
                    "warning: materialization '{}' of {} never called adapter.commit(): as dbt does, mart rolled back what it built; add {{{{ adapter.commit() }}}} after its statements",
                    node.config.materialized, node.original_file_path
                ),
            });
            connection
                .rollback()
                .await
                .map(|()| ran)
                .map_err(|e| db_error(&e, None))
        }
        Err(error) => {
            // The error matters more than a failed rollback (the connection may be gone).
            let _ = connection.rollback().await;
            Err(error)
        }
    }
}

async fn build_in_transaction(
    ctx: &RunContext,
    node: &Node,
    package: &str,
    macro_name: &str,
    connection: &mut Connection,
) -> Result<(Ran, bool), Diagnostic> {
    let id = &node.id;
    let relation = &node.relation;
    let dependents = dependents::capture(node, connection).await?;
    let existing = ctx
        .catalog
        .kind(connection, &relation.schema, &relation.identifier)
        .await
        .map_err(|e| db_error(&e, None))?;
    // As dbt's is_incremental(): an incremental model whose table exists, no full refresh.
    let full_refresh = node.config.full_refresh.unwrap_or(ctx.options.full_refresh);
    let is_incremental = node.config.materialized == Materialization::Incremental
        && existing == Some(RelationKind::Table)
        && !full_refresh;
    let (compiled, _) = compile_to_file(ctx, id, is_incremental, connection)?;
    let runner = PgQueryRunner::for_node(connection);
    let run = tokio::task::block_in_place(|| {
        Compiler::new(&ctx.manifest, &ctx.env, Some(runner)).run_materialization(
            id,
            is_incremental,
            package,
            macro_name,
            &compiled.sql,
        )
    });
    for message in run.logs {
        ctx.reporter.report(&Event::Log {
            id: id.clone(),
            message,
        });
    }
    let name = node.config.materialized.as_str();
    let done = run.result.map_err(|d| {
        d.with_note(format!(
            "in materialization '{name}' of {}",
            node.original_file_path
        ))
    })?;
    let Some(main) = done.main else {
        return Err(Diagnostic::error(
            Code::TemplateRender,
            format!("materialization '{name}' ran no statement('main'); dbt reports a model's result from that statement"),
        )
        .with_path(&node.original_file_path)
        .with_help("run the model's SQL in {% call statement('main') %} ... {% endcall %}"));
    };
    if let Some(path) = ctx.manifest.run_path(id) {
        write_artifact(
            &path,
            &format!("{};\n", main.sql.trim().trim_end_matches(';')),
        )?;
    }
    dependents::restore(ctx, node, connection, &dependents).await?;
    Ok((
        Ran::success(main.message, main.rows_affected, Some(compiled.sql)),
        done.committed,
    ))
}

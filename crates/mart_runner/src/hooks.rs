//! What runs around a node's build, inside the node's transaction: its pre-hooks before
//! it; after it, its indexes, post-hooks, grants and persist_docs comments. Hooks marked
//! `transaction: false` run before `begin` / after `commit`. And the project's
//! `on-run-start` / `on-run-end` hooks around a whole run.

use std::sync::Arc;

use crate::PgQueryRunner;
use mart_adapter::{
    comment_statements, create_index, grant_statements, quote_literal, RelationKind,
};
use mart_compiler::{Compiler, Node};
use mart_diagnostics::{Diagnostic, SourceFile};
use mart_postgres::Connection;
use mart_project::Hook;

use crate::materialize::db_error;
use crate::schedule::RunContext;

/// Renders `hooks` for `node` (or the project) and returns the statements that are not
/// blank. `which` names the hook in errors (`pre-hook`, `on-run-end`, ...).
fn render<'a>(
    ctx: &RunContext,
    connection: &Connection,
    node: Option<&Node>,
    hooks: impl IntoIterator<Item = &'a str>,
    which: &str,
) -> Result<Vec<String>, Diagnostic> {
    render_with(ctx, connection, node, hooks, which, &Default::default())
}

/// [`render`] with extra template variables (on-run-end's `results`, ...).
fn render_with<'a>(
    ctx: &RunContext,
    connection: &Connection,
    node: Option<&Node>,
    hooks: impl IntoIterator<Item = &'a str>,
    which: &str,
    variables: &serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<String>, Diagnostic> {
    // A hook's run_query() and adapter calls run in the hook's own session and transaction.
    let runner = PgQueryRunner::for_node(connection);
    let compiler = Compiler::new(&ctx.manifest, &ctx.env, Some(runner));
    let place = node.map_or_else(
        || ctx.manifest.project_file.display().to_string(),
        |n| n.original_file_path.clone(),
    );
    let mut statements = Vec::new();
    for hook in hooks {
        let file = Arc::new(SourceFile::new(format!("{place} ({which})"), hook));
        let sql = tokio::task::block_in_place(|| {
            compiler.render_hook(node.map(|n| &n.id), &file, variables)
        })?;
        if !sql.trim().is_empty() {
            statements.push(sql);
        }
    }
    Ok(statements)
}

/// Runs the rendered `hooks` in one transaction.
async fn execute(
    connection: &mut Connection,
    statements: &[String],
    note: String,
) -> Result<(), Diagnostic> {
    if statements.is_empty() {
        return Ok(());
    }
    connection
        .execute_in_transaction(statements)
        .await
        .map(|_| ())
        .map_err(|e| db_error(&e, None).with_note(note))
}

/// The project's `on-run-start` hooks.
pub(crate) async fn on_run_start(
    ctx: &RunContext,
    connection: &mut Connection,
) -> Result<(), Diagnostic> {
    on_run(
        ctx,
        connection,
        &ctx.manifest.on_run_start,
        "on-run-start",
        &Default::default(),
    )
    .await
}

/// The project's `on-run-end` hooks, which see the run's `results`, `schemas` and
/// `database_schemas` as dbt's do.
pub(crate) async fn on_run_end(
    ctx: &RunContext,
    connection: &mut Connection,
    results: &[crate::NodeResult],
) -> Result<(), Diagnostic> {
    if ctx.manifest.on_run_end.is_empty() {
        return Ok(());
    }
    let variables = ctx
        .run_end_context
        .map(|build| build(&ctx.manifest, results))
        .unwrap_or_default();
    on_run(
        ctx,
        connection,
        &ctx.manifest.on_run_end,
        "on-run-end",
        &variables,
    )
    .await
}

async fn on_run(
    ctx: &RunContext,
    connection: &mut Connection,
    hooks: &[String],
    which: &str,
    variables: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), Diagnostic> {
    let statements = render_with(
        ctx,
        connection,
        None,
        hooks.iter().map(String::as_str),
        which,
        variables,
    )?;
    execute(
        connection,
        &statements,
        format!("while running the project's {which} hooks"),
    )
    .await
}

/// The SQL of the `hooks` that run inside the node's transaction (`in_transaction`) or
/// outside it.
fn sql_of(hooks: &[Hook], in_transaction: bool) -> impl Iterator<Item = &str> {
    hooks
        .iter()
        .filter(move |h| h.transaction == in_transaction)
        .map(|h| h.sql.as_str())
}

/// The node's pre-hooks that run inside its transaction (`in_transaction`), or before it.
pub(crate) async fn before(
    ctx: &RunContext,
    node: &Node,
    connection: &mut Connection,
    in_transaction: bool,
) -> Result<(), Diagnostic> {
    let statements = render(
        ctx,
        connection,
        Some(node),
        sql_of(&node.config.pre_hook, in_transaction),
        "pre-hook",
    )?;
    execute(
        connection,
        &statements,
        format!("while running the pre-hooks of {}", node.original_file_path),
    )
    .await
}

/// The node's post-hooks marked `transaction: false`, after its transaction committed.
pub(crate) async fn after_commit(
    ctx: &RunContext,
    node: &Node,
    connection: &mut Connection,
) -> Result<(), Diagnostic> {
    let statements = render(
        ctx,
        connection,
        Some(node),
        sql_of(&node.config.post_hook, false),
        "post-hook",
    )?;
    execute(
        connection,
        &statements,
        format!(
            "while running the post-hooks of {}",
            node.original_file_path
        ),
    )
    .await
}

/// After a successful build, inside its transaction: indexes (tables only), post-hooks,
/// grants and comments.
pub(crate) async fn after(
    ctx: &RunContext,
    node: &Node,
    connection: &mut Connection,
) -> Result<(), Diagnostic> {
    let config = &node.config;
    let docs = config.persist_docs;
    if config.indexes.is_empty()
        && config.post_hook.is_empty()
        && config.grants.is_empty()
        && !docs.relation
        && !docs.columns
    {
        return Ok(());
    }
    let target = &node.relation;
    let Some(kind) = connection
        .relation_kind(&target.schema, &target.identifier)
        .await
        .map_err(|e| db_error(&e, None))?
    else {
        return Ok(());
    };
    let mut statements = Vec::new();
    if matches!(kind, RelationKind::Table | RelationKind::MaterializedView) {
        for index in &config.indexes {
            statements.push(create_index(
                target,
                &index.columns,
                index.unique,
                index.method.as_deref(),
            ));
        }
    }
    statements.extend(render(
        ctx,
        connection,
        Some(node),
        sql_of(&config.post_hook, true),
        "post-hook",
    )?);
    if !config.grants.is_empty() {
        let current = connection
            .query(&format!(
                "select lower(privilege_type), grantee::text from information_schema.table_privileges \
                 where table_schema = {} and table_name = {} and grantee <> current_user",
                quote_literal(&target.schema),
                quote_literal(&target.identifier)
            ))
            .await
            .map_err(|e| db_error(&e, None))?
            .rows
            .into_iter()
            .filter_map(|r| match (r.first().cloned().flatten(), r.get(1).cloned().flatten()) {
                (Some(p), Some(g)) => Some((p, g)),
                _ => None,
            })
            .collect::<Vec<_>>();
        statements.extend(grant_statements(target, &config.grants, &current));
    }
    if docs.relation || docs.columns {
        let description = (docs.relation && !node.description.trim().is_empty())
            .then_some(node.description.trim());
        let mut columns = Vec::new();
        if docs.columns {
            let existing = connection
                .columns(&target.schema, &target.identifier)
                .await
                .map_err(|e| db_error(&e, None))?;
            for column in node.columns.iter() {
                let text = column.description.trim();
                if !text.is_empty() && existing.iter().any(|(n, _)| *n == column.name) {
                    columns.push((column.name.clone(), text.to_string()));
                }
            }
        }
        statements.extend(comment_statements(target, kind, description, &columns));
    }
    execute(
        connection,
        &statements,
        format!(
            "while applying the indexes, post-hooks, grants and docs of {}",
            node.original_file_path
        ),
    )
    .await
}

//! Views built on a relation that its rebuild drops with `cascade` (a table swap, a view
//! replacing a table, a seed with new columns): read before the build, and recreated after
//! it in the same transaction, so that rebuilding one model never loses the views of
//! others. A view that cannot be recreated fails the rebuild, which then rolls back.

use mart_adapter::{
    dependent_view_names_query, dependent_views_query, lock_views_statement, parse_dependent_view,
    recreate_statements, DependentView, RelationKind,
};
use mart_compiler::{Compiler, Node};
use mart_diagnostics::{Code, Diagnostic};
use mart_graph::ResourceType;
use mart_postgres::Connection;
use mart_project::Materialization;

use crate::materialize::db_error;
use crate::schedule::RunContext;
use crate::Event;
use crate::PgQueryRunner;

/// The views that depend on the node's relation, nearest first, with their names locked
/// for this transaction (see [`lock_views_statement`]).
pub(crate) async fn capture(
    node: &Node,
    connection: &Connection,
) -> Result<Vec<DependentView>, Diagnostic> {
    let target = &node.relation;
    let mut locked: Vec<(String, String)> = Vec::new();
    // Until no new name appears: another rebuild may have recreated views meanwhile.
    loop {
        let names: Vec<(String, String)> = connection
            .query(&dependent_view_names_query(
                &target.schema,
                &target.identifier,
            ))
            .await
            .map_err(|e| db_error(&e, None))?
            .rows
            .into_iter()
            .filter_map(|row| match row.as_slice() {
                [Some(schema), Some(name)] => Some((schema.clone(), name.clone())),
                _ => None,
            })
            .filter(|name| !locked.contains(name))
            .collect();
        if names.is_empty() {
            break;
        }
        connection
            .execute(&lock_views_statement(&names))
            .await
            .map_err(|e| db_error(&e, None))?;
        locked.extend(names);
    }
    if locked.is_empty() {
        return Ok(Vec::new());
    }
    let rows = connection
        .query(&dependent_views_query(&target.schema, &target.identifier))
        .await
        .map_err(|e| db_error(&e, None))?
        .rows;
    rows.iter()
        .filter_map(|row| row.first().cloned().flatten())
        .map(|json| {
            parse_dependent_view(&json).map_err(|e| {
                Diagnostic::error(
                    Code::Database,
                    format!("cannot read the views that depend on {target}: {e}"),
                )
            })
        })
        .collect()
}

/// Recreates the `captured` views that the build dropped, and says so.
pub(crate) async fn restore(
    ctx: &RunContext,
    node: &Node,
    connection: &mut Connection,
    captured: &[DependentView],
) -> Result<(), Diagnostic> {
    let mut recreated = Vec::new();
    for view in captured {
        // Dropped by the build, maybe recreated below: the run's catalog no longer knows it.
        ctx.catalog.forget(&view.schema, &view.name);
        if connection
            .relation_kind(&view.schema, &view.name)
            .await
            .map_err(|e| db_error(&e, None))?
            .is_some()
        {
            continue;
        }
        let model = model_of(ctx, view);
        let sql = match model {
            Some(model) => Some(compiled_sql(ctx, model, connection)?),
            None => None,
        };
        let relation = view.relation(None);
        connection
            .execute_in_transaction(&recreate_statements(view, sql.as_deref()))
            .await
            .map_err(|e| {
                db_error(&e, None)
                    .with_note(format!(
                        "while recreating view {relation}, which depends on {} and was dropped with it; the rebuild of {} was rolled back",
                        node.relation, node.original_file_path
                    ))
                    .with_help(match model {
                        Some(m) => format!("change model {} so it fits the new {}, or rebuild both with --full-refresh after dropping the view", m.original_file_path, node.name),
                        None => format!("change or drop view {relation} so that it no longer needs what the new {} lacks", node.name),
                    })
            })?;
        recreated.push(relation.to_string());
    }
    if !recreated.is_empty() {
        ctx.reporter.report(&Event::Log {
            id: node.id.clone(),
            message: format!(
                "recreated {} dependent view{} dropped by the rebuild of {}: {}",
                recreated.len(),
                if recreated.len() == 1 { "" } else { "s" },
                node.relation,
                recreated.join(", ")
            ),
        });
    }
    Ok(())
}

/// The project's view model that builds `view`, if any.
fn model_of<'a>(ctx: &'a RunContext, view: &DependentView) -> Option<&'a Node> {
    (view.relation_kind() == RelationKind::View)
        .then(|| {
            ctx.manifest.nodes.values().find(|n| {
                n.resource_type == ResourceType::Model
                    && n.config.materialized == Materialization::View
                    && n.relation.schema == view.schema
                    && n.relation.identifier == view.name
            })
        })
        .flatten()
}

fn compiled_sql(
    ctx: &RunContext,
    model: &Node,
    connection: &Connection,
) -> Result<String, Diagnostic> {
    let runner = PgQueryRunner::for_node(connection);
    tokio::task::block_in_place(|| {
        Compiler::new(&ctx.manifest, &ctx.env, Some(runner))
            .with_empty_inputs(ctx.options.empty)
            .compile(&model.id, false)
    })
    .map(|compiled| compiled.sql)
}

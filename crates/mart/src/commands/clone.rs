//! `mart clone` (dbt clone): creates the selected models, seeds and snapshots in the
//! target as views of the `--state`'s relations; PostgreSQL has no zero-copy clone, so
//! each is `create view <target> as select * from <state relation>`, as dbt-postgres does.

use std::collections::BTreeSet;
use std::time::{Instant, SystemTime};

use mart_adapter::{quote_ident, Relation, RelationKind};
use mart_diagnostics::{Code, Diagnostic, Diagnostics};
use mart_graph::{NodeId, ResourceType};
use mart_runner::{NodeResult, NodeStatus};

use crate::args::{CloneArgs, GlobalArgs};
use crate::session::Session;
use crate::Outcome;

pub fn run(global: &GlobalArgs, args: &CloneArgs) -> Result<Outcome, Diagnostics> {
    let session = Session::load(global)?;
    let Some(dir) = args.selection.state.as_deref() else {
        return Err(Diagnostic::error(
            Code::Usage,
            "mart clone needs --state DIR: the manifest.json of the relations to clone",
        )
        .with_help("pass the target folder of a production run, or set DBT_STATE")
        .into());
    };
    let previous = crate::state::read(dir, "--state")?;
    let manifest = &session.manifest;
    let selected: Vec<NodeId> = manifest
        .dag
        .order_of(&session.select(&args.selection)?)
        .into_iter()
        .filter(|id| {
            manifest.node(id).is_some_and(|n| {
                matches!(
                    n.resource_type,
                    ResourceType::Model | ResourceType::Seed | ResourceType::Snapshot
                )
            })
        })
        .collect();
    let printer = session.printer;
    printer.info(&format!("Running with mart {}", env!("CARGO_PKG_VERSION")));
    printer.info(&session.found_line());
    let started = Instant::now();
    let schemas: BTreeSet<&str> = selected
        .iter()
        .filter_map(|id| manifest.node(id))
        .map(|n| n.relation.schema.as_str())
        .collect();
    let existing = crate::state::existing_relations(&session, &schemas)?;
    let runtime = super::runtime(2)?;
    let config = session.connection_config();
    let mut connection = runtime
        .block_on(mart_postgres::Connection::connect(&config))
        .map_err(|e| Diagnostic::error(Code::Database, e.to_string()))?;
    let total = selected.len();
    let mut results = Vec::with_capacity(total);
    for (index, id) in selected.iter().enumerate() {
        let Some(node) = manifest.node(id) else {
            continue;
        };
        let node_started = SystemTime::now();
        let clock = Instant::now();
        let target = &node.relation;
        let exists = existing.contains(&(target.schema.clone(), target.identifier.clone()));
        let source = previous
            .manifest
            .relation_of(id)
            .map(|r| Relation::new(r.database, r.schema, r.identifier));
        let (status, message, error) = match source {
            // dbt: nothing in the state to clone from, or the target has it: a no-op.
            None => (
                NodeStatus::Success,
                format!("No-op: no relation found in the state manifest for {id}"),
                None,
            ),
            Some(_) if exists && !args.full_refresh => (
                NodeStatus::Success,
                format!("No-op: relation {target} already exists"),
                None,
            ),
            Some(source) => {
                let created = runtime.block_on(async {
                    let kind = connection
                        .relation_kind(&target.schema, &target.identifier)
                        .await?;
                    let statements = clone_statements(target, &source, kind);
                    connection.execute_in_transaction(&statements).await
                });
                match created {
                    Ok(_) => (NodeStatus::Success, "CREATE VIEW".to_string(), None),
                    Err(e) => (
                        NodeStatus::Error,
                        e.to_string(),
                        Some(Box::new(
                            Diagnostic::error(Code::Database, e.to_string())
                                .with_note(format!("while cloning {id} from {source}")),
                        )),
                    ),
                }
            }
        };
        let word = match status {
            NodeStatus::Success => "OK",
            _ => "ERROR",
        };
        printer.progress_line(
            index + 1,
            total,
            &format!("clone {} {target}", node.resource_type),
            &format!("[{word} {message}]"),
        );
        if let Some(error) = &error {
            printer.diagnostic(error);
        }
        results.push(NodeResult {
            id: id.clone(),
            status,
            message,
            error,
            started_at: node_started,
            duration: clock.elapsed(),
            rows_affected: None,
            failures: None,
            compiled_sql: None,
            batch_results: None,
        });
    }
    let elapsed = started.elapsed();
    printer.summary(manifest, &results, "nodes", elapsed);
    let record = serde_json::json!({
        "which": "clone",
        "select": args.selection.select,
        "exclude": args.selection.exclude,
        "state": dir,
        "full_refresh": args.full_refresh,
    });
    let outcome = if results.iter().any(|r| r.status != NodeStatus::Success) {
        Outcome::NodeFailure
    } else {
        Outcome::Success
    };
    let ran = super::Ran {
        outcome,
        results,
        elapsed,
        column_types: Default::default(),
    };
    super::write_artifacts(
        &session,
        &ran,
        record.as_object().cloned().unwrap_or_default(),
        None,
    )?;
    Ok(ran.outcome)
}

/// Replaces what the target has (of any kind) with a view of the state's relation, as
/// dbt's clone materialization falls back to the view materialization.
fn clone_statements(
    target: &Relation,
    source: &Relation,
    existing: Option<RelationKind>,
) -> Vec<String> {
    let mut statements = vec![format!(
        "create schema if not exists {}",
        quote_ident(&target.schema)
    )];
    let drop = match existing {
        Some(RelationKind::Table) => Some("table"),
        Some(RelationKind::View) => Some("view"),
        Some(RelationKind::MaterializedView) => Some("materialized view"),
        Some(RelationKind::ForeignTable) => Some("foreign table"),
        Some(RelationKind::Other) | None => None,
    };
    if let Some(kind) = drop {
        statements.push(format!("drop {kind} if exists {target} cascade"));
    }
    statements.push(format!("create view {target} as select * from {source}"));
    statements
}

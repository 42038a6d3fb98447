//! `--state`, `--defer` and `--favor-state`: comparing the project with an earlier run's
//! manifest.json and run_results.json, and reading unbuilt parents from its relations.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use mart_adapter::Relation;
use mart_artifacts::state::{read_state, PreviousState, StateManifest};
use mart_diagnostics::{Code, Diagnostic, Diagnostics};
use mart_graph::{NodeId, ResourceType};
use mart_project::Materialization;

use crate::args::{DeferArgs, SelectArgs};
use crate::session::Session;

/// Reads the state folder; a missing or unreadable file is an error naming it.
pub fn read(dir: &Path, flag: &str) -> Result<PreviousState, Diagnostic> {
    read_state(dir).map_err(|e| {
        Diagnostic::error(Code::Usage, format!("{flag} {}: {e}", dir.display())).with_help(format!(
            "pass to {flag} the target folder of the run to compare with (its manifest.json, \
                 and run_results.json for result: selectors), as `mart build` writes them"
        ))
    })
}

/// The current project as the comparison reads it (mart's manifest.json, in memory).
pub fn current_manifest(session: &Session) -> Result<StateManifest, Diagnostic> {
    let manifest = mart_artifacts::build_manifest(
        &session.manifest,
        &session.env,
        &mart_artifacts::CompiledNodes::default(),
        &session.invocation,
    )
    .and_then(|m| StateManifest::of(&m))
    .map_err(|e| {
        Diagnostic::error(
            Code::Io,
            format!("cannot build the manifest to compare: {e}"),
        )
    })?;
    Ok(manifest)
}

/// With `--state`, compares the project with the state and gives the comparison to the
/// graph's `state:` and `result:` selectors.
pub fn attach(session: &Session, args: &SelectArgs) -> Result<(), Diagnostics> {
    let Some(dir) = &args.state else {
        return Ok(());
    };
    if session.manifest.dag.state().is_some() {
        return Ok(());
    }
    let previous = read(dir, "--state")?;
    let marks = mart_artifacts::state::compare(&current_manifest(session)?, &previous);
    session.manifest.dag.attach_state(marks);
    Ok(())
}

/// `--defer`: refs to nodes this command does not build (`built`) read the state's
/// relation when the target has none for them, or, with `--favor-state`, whenever the node
/// is not `selected` (dbt's rule).
pub fn defer(
    session: &Session,
    args: &DeferArgs,
    state: Option<&Path>,
    selected: &BTreeSet<NodeId>,
    built: &BTreeSet<NodeId>,
) -> Result<(), Diagnostics> {
    if !args.defer {
        if args.favor_state || args.defer_state.is_some() {
            let flag = if args.favor_state {
                "--favor-state"
            } else {
                "--defer-state"
            };
            session.printer.diagnostic(
                &Diagnostic::warning(Code::Usage, format!("{flag} does nothing without --defer"))
                    .with_help("add --defer, or leave the flag out"),
            );
            session.printer.stop_on_warnings()?;
        }
        return Ok(());
    }
    let (dir, flag) = match (&args.defer_state, state) {
        (Some(dir), _) => (dir.as_path(), "--defer-state"),
        (None, Some(dir)) => (dir, "--state"),
        (None, None) => {
            return Err(Diagnostic::error(
                Code::Usage,
                "--defer needs the manifest to defer to: pass --state DIR or --defer-state DIR",
            )
            .with_help("use the target folder of a production run (its manifest.json)")
            .into())
        }
    };
    let previous = read(dir, flag)?;
    let manifest = &session.manifest;
    let candidates: Vec<(&NodeId, Relation)> = manifest
        .nodes
        .values()
        .filter(|n| {
            matches!(
                n.resource_type,
                ResourceType::Model | ResourceType::Seed | ResourceType::Snapshot
            ) && n.config.materialized != Materialization::Ephemeral
                && !built.contains(&n.id)
        })
        .filter_map(|n| {
            let r = previous.manifest.relation_of(&n.id)?;
            Some((&n.id, Relation::new(r.database, r.schema, r.identifier)))
        })
        .collect();
    if candidates.is_empty() {
        manifest.defer_refs(HashMap::new());
        return Ok(());
    }
    let schemas: BTreeSet<&str> = candidates
        .iter()
        .filter_map(|(id, _)| manifest.node(id))
        .map(|n| n.relation.schema.as_str())
        .collect();
    let existing = existing_relations(session, &schemas)?;
    let deferred: HashMap<NodeId, Relation> = candidates
        .into_iter()
        .filter(|(id, _)| {
            let favored = args.favor_state && !selected.contains(id);
            let exists = manifest.node(id).is_some_and(|n| {
                existing.contains(&(n.relation.schema.clone(), n.relation.identifier.clone()))
            });
            favored || !exists
        })
        .map(|(id, relation)| (id.clone(), relation))
        .collect();
    session.printer.info(&format!(
        "Deferring {} unbuilt ref{} to the state in {}",
        deferred.len(),
        if deferred.len() == 1 { "" } else { "s" },
        dir.display()
    ));
    manifest.defer_refs(deferred);
    Ok(())
}

/// The (schema, name) of every table, view and materialized view in `schemas` of the
/// target database.
pub fn existing_relations(
    session: &Session,
    schemas: &BTreeSet<&str>,
) -> Result<HashSet<(String, String)>, Diagnostic> {
    let list: Vec<String> = schemas
        .iter()
        .map(|s| mart_adapter::quote_literal(s))
        .collect();
    let sql = format!(
        "select n.nspname, c.relname from pg_catalog.pg_class c \
         join pg_catalog.pg_namespace n on n.oid = c.relnamespace \
         where c.relkind in ('r', 'v', 'm', 'p', 'f') and n.nspname in ({})",
        list.join(", ")
    );
    let runtime = crate::commands::runtime(2)?;
    let config = session.connection_config();
    let result = runtime
        .block_on(async {
            let connection = mart_postgres::Connection::connect(&config).await?;
            connection.query(&sql).await
        })
        .map_err(|e| {
            Diagnostic::error(Code::Database, e.to_string())
                .with_note("while looking up which relations the target has, for --defer")
        })?;
    Ok(result
        .rows
        .into_iter()
        .filter_map(|row| match row.as_slice() {
            [Some(schema), Some(name)] => Some((schema.clone(), name.clone())),
            _ => None,
        })
        .collect())
}

//! `mart compile`: write each selected model's and test's SQL under <target-path>/compiled,
//! and manifest.json with it.

use std::collections::BTreeSet;
use std::sync::Arc;

use mart_artifacts::CompiledNodes;
use mart_compiler::{write_artifact, CompiledNode, Compiler};
use mart_diagnostics::{Diagnostics, SourceFile};
use mart_graph::{NodeId, ResourceType};
use mart_jinja::QueryRunner;
use mart_runner::PgQueryRunner;

use crate::args::{CompileArgs, GlobalArgs};
use crate::session::Session;
use crate::Outcome;

pub fn run(global: &GlobalArgs, args: &CompileArgs) -> Result<Outcome, Diagnostics> {
    let session = Session::load(global)?;
    let nothing = BTreeSet::new();
    let state = args.selection.state.as_deref();
    if let Some(sql) = &args.inline {
        crate::state::defer(&session, &args.defer, state, &nothing, &nothing)?;
        let compiled = compile_inline(&session, sql)?;
        session.printer.result(compiled.sql.trim_end());
        return Ok(Outcome::Success);
    }
    let defer = &args.defer;
    let args = &args.selection;
    let selected = session.select(args)?;
    crate::state::defer(&session, defer, state, &selected, &nothing)?;
    let ids: Vec<NodeId> = session
        .manifest
        .dag
        .order_of(&selected)
        .into_iter()
        .filter(|id| {
            session.manifest.node(id).is_some_and(|n| {
                matches!(
                    n.resource_type,
                    ResourceType::Model
                        | ResourceType::Snapshot
                        | ResourceType::Test
                        | ResourceType::Analysis
                )
            })
        })
        .collect();
    let kept = crate::static_checks::load_kept(&session);
    let compiled = compile_and_write(&session, &ids)?;
    let analysis = crate::static_checks::analyse(&session, &compiled, false, kept)?;
    let last_sql = compiled.last().map(|c| c.sql.clone()).unwrap_or_default();
    let compiled = CompiledNodes {
        sql: compiled.into_iter().map(|c| (c.id, c.sql)).collect(),
        column_types: analysis.column_types.clone(),
    };
    let invocation = session.invocation.generated_now();
    super::write_manifest(&session, &compiled, &invocation)?;
    if analysis.has_errors() {
        return Ok(Outcome::NodeFailure);
    }
    let count = |t: ResourceType| {
        compiled
            .sql
            .keys()
            .filter(|id| {
                session
                    .manifest
                    .node(id)
                    .is_some_and(|n| n.resource_type == t)
            })
            .count()
    };
    let (models, tests) = (count(ResourceType::Model), count(ResourceType::Test));
    let target_dir = session
        .manifest
        .target_dir
        .strip_prefix(&session.manifest.root)
        .unwrap_or(&session.manifest.target_dir)
        .join("compiled");
    if ids.len() == 1 && !args.select.is_empty() {
        // One selected model: show its SQL, as `dbt compile -s model` does.
        session.printer.result(last_sql.trim_end());
    } else {
        // "8 models", "8 models and 62 tests", "8 models, 1 snapshot and 62 tests".
        let snapshots = count(ResourceType::Snapshot);
        let mut parts = vec![format!("{models} models")];
        for (n, one, many) in [
            (snapshots, "snapshot", "snapshots"),
            (tests, "test", "tests"),
        ] {
            match n {
                0 => {}
                1 => parts.push(format!("1 {one}")),
                n => parts.push(format!("{n} {many}")),
            }
        }
        let last = parts.pop().unwrap_or_default();
        let what = if parts.is_empty() {
            last
        } else {
            format!("{} and {last}", parts.join(", "))
        };
        session
            .printer
            .info(&format!("Compiled {what} to {}", target_dir.display()));
    }
    Ok(Outcome::Success)
}

/// Compiles `--inline` SQL in the project's context; log()/print() lines go to the
/// terminal.
pub(crate) fn compile_inline(session: &Session, sql: &str) -> Result<CompiledNode, Diagnostics> {
    let runtime = super::runtime(2)?;
    let runner: Arc<dyn QueryRunner> = Arc::new(PgQueryRunner::new(
        session.connection_config(),
        runtime.handle().clone(),
    ));
    let compiler = Compiler::new(&session.manifest, &session.env, Some(runner));
    let file = Arc::new(SourceFile::new("--inline", sql));
    let compiled = compiler.compile_inline(&file)?;
    for line in &compiled.logs {
        session.printer.info(line);
    }
    Ok(compiled)
}

/// Compiles `ids` (in that order) and writes each one's SQL under target/compiled; lines
/// from log()/print() go to the terminal. A connection is opened only if a node calls
/// run_query() while compiling.
pub(crate) fn compile_and_write(
    session: &Session,
    ids: &[NodeId],
) -> Result<Vec<CompiledNode>, Diagnostics> {
    let runtime = super::runtime(2)?;
    let runner: Arc<dyn QueryRunner> = Arc::new(PgQueryRunner::new(
        session.connection_config(),
        runtime.handle().clone(),
    ));
    let compiler = Compiler::new(&session.manifest, &session.env, Some(runner));
    let mut errors = Diagnostics::default();
    let mut compiled_nodes = Vec::with_capacity(ids.len());
    let manifest = &session.manifest;
    let results =
        compiler.compile_all(ids, |compiled| match manifest.compiled_path(&compiled.id) {
            Some(path) => write_artifact(&path, &compiled.sql),
            None => Ok(()),
        });
    for result in results {
        match result {
            Ok(compiled) => {
                for line in &compiled.logs {
                    session.printer.info(line);
                }
                compiled_nodes.push(compiled);
            }
            Err(d) => errors.push(d),
        }
    }
    if errors.has_errors() {
        return Err(errors);
    }
    Ok(compiled_nodes)
}

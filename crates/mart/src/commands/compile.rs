//! `mart compile`: write each selected model's SQL under <target-path>/compiled.

use std::sync::Arc;

use mart_compiler::{write_artifact, CompiledNode, Compiler};
use mart_diagnostics::Diagnostics;
use mart_graph::{NodeId, ResourceType};
use mart_jinja::QueryRunner;
use mart_runner::PgQueryRunner;

use crate::args::{GlobalArgs, SelectArgs};
use crate::session::Session;
use crate::Outcome;

pub fn run(global: &GlobalArgs, args: &SelectArgs) -> Result<Outcome, Diagnostics> {
    let session = Session::load(global)?;
    let ids: Vec<NodeId> = session
        .manifest
        .dag
        .order_of(&session.select(args)?)
        .into_iter()
        .filter(|id| {
            session
                .manifest
                .node(id)
                .is_some_and(|n| n.resource_type == ResourceType::Model)
        })
        .collect();
    let compiled = compile_and_write(&session, &ids)?;
    let written = compiled.len();
    let target_dir = session
        .manifest
        .target_dir
        .strip_prefix(&session.manifest.root)
        .unwrap_or(&session.manifest.target_dir)
        .join("compiled");
    if ids.len() == 1 && !args.select.is_empty() {
        // One selected model: show its SQL, as `dbt compile -s model` does.
        let sql = compiled.last().map_or("", |c| c.sql.trim_end());
        session.printer.result(sql);
    } else {
        session.printer.info(&format!(
            "Compiled {written} models to {}",
            target_dir.display()
        ));
    }
    Ok(Outcome::Success)
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
    for result in compiler.compile_all(ids) {
        match result {
            Ok(compiled) => {
                for line in &compiled.logs {
                    session.printer.info(line);
                }
                if let Some(path) = session.manifest.compiled_path(&compiled.id) {
                    if let Err(d) = write_artifact(&path, &compiled.sql) {
                        errors.push(d);
                        continue;
                    }
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

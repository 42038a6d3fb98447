//! `mart compile`: write each selected model's and test's SQL under <target-path>/compiled,
//! and manifest.json with it.

use std::collections::BTreeMap;
use std::sync::Arc;

use mart_compiler::{write_artifact, Compiler};
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
            session.manifest.node(id).is_some_and(|n| {
                matches!(n.resource_type, ResourceType::Model | ResourceType::Test)
            })
        })
        .collect();
    // A connection is opened only if a model calls run_query() while compiling.
    let runtime = super::runtime(2)?;
    let runner: Arc<dyn QueryRunner> = Arc::new(PgQueryRunner::new(
        session.connection_config(),
        runtime.handle().clone(),
    ));
    let compiler = Compiler::new(&session.manifest, &session.env, Some(runner));
    let mut errors = Diagnostics::default();
    let mut compiled_sql: BTreeMap<NodeId, String> = BTreeMap::new();
    let mut last_sql = String::new();
    for result in compiler.compile_all(&ids) {
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
                last_sql = compiled.sql.clone();
                compiled_sql.insert(compiled.id, compiled.sql);
            }
            Err(d) => errors.push(d),
        }
    }
    if errors.has_errors() {
        return Err(errors);
    }
    let invocation = mart_artifacts::Invocation::new(env!("CARGO_PKG_VERSION"));
    super::write_manifest(&session, &compiled_sql, &invocation)?;
    let count = |t: ResourceType| {
        compiled_sql
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
        let tests = match tests {
            0 => String::new(),
            1 => " and 1 test".to_string(),
            n => format!(" and {n} tests"),
        };
        session.printer.info(&format!(
            "Compiled {models} models{tests} to {}",
            target_dir.display()
        ));
    }
    Ok(Outcome::Success)
}

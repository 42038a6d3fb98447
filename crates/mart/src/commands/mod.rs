//! One module per subcommand.

pub mod clean;
pub mod compile;
pub mod debug;
pub mod ls;
pub mod run;
pub mod run_operation;
pub mod seed;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use mart_diagnostics::{Code, Diagnostic, Diagnostics};
use mart_graph::{NodeId, ResourceType};
use mart_runner::{NodeStatus, PgQueryRunner, RunContext, RunOptions};

use crate::args::RunArgs;
use crate::printer::RunPrinter;
use crate::session::Session;
use crate::Outcome;

/// A tokio runtime for commands that talk to the database.
pub(crate) fn runtime(threads: usize) -> Result<tokio::runtime::Runtime, Diagnostic> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.clamp(2, 64))
        .enable_all()
        .build()
        .map_err(|e| Diagnostic::error(Code::Io, format!("cannot start the async runtime: {e}")))
}

/// Runs the selected nodes of one resource type (models for `run`, seeds for `seed`).
pub(crate) fn execute(
    global: &crate::args::GlobalArgs,
    args: &RunArgs,
    resource_type: ResourceType,
    what: &str,
) -> Result<Outcome, Diagnostics> {
    let session = Session::load(global)?;
    let selected: BTreeSet<NodeId> = session
        .select(&args.selection)?
        .into_iter()
        .filter(|id| {
            session
                .manifest
                .node(id)
                .is_some_and(|n| n.resource_type == resource_type)
        })
        .collect();
    let printer = session.printer;
    let threads = args.threads.unwrap_or(session.target.threads).max(1);
    printer.info(&format!("Running with mart {}", env!("CARGO_PKG_VERSION")));
    printer.info(&session.found_line());
    if selected.is_empty() {
        printer.info("Nothing to do: the selection matches no nodes of this kind.");
        return Ok(Outcome::Success);
    }
    printer.info("");
    printer.info(&format!(
        "Concurrency: {threads} threads (target='{}')",
        session.target.name
    ));
    printer.info("");
    let runtime = runtime(threads)?;
    let (interrupt_tx, interrupt) = tokio::sync::watch::channel(false);
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = interrupt_tx.send(true);
        }
    });
    let started = Instant::now();
    let ctx = Arc::new(RunContext {
        manifest: session.manifest.clone(),
        env: session.env.clone(),
        connection: session.connection_config(),
        options: RunOptions {
            threads,
            full_refresh: args.full_refresh,
            fail_fast: args.fail_fast,
        },
        reporter: Arc::new(RunPrinter {
            printer,
            manifest: session.manifest.clone(),
        }),
        query_runner: Arc::new(PgQueryRunner::new(
            session.connection_config(),
            runtime.handle().clone(),
        )),
        interrupt: interrupt.clone(),
    });
    let results = runtime
        .block_on(mart_runner::execute(ctx, &selected))
        .map_err(|e| Diagnostics::from(e.0))?;
    printer.summary(&session.manifest, &results, what, started.elapsed());
    if *interrupt.borrow() {
        printer.info("Interrupted: running queries were cancelled and nothing else was started.");
        return Ok(Outcome::Interrupted);
    }
    let failed = results.iter().any(|r| r.status != NodeStatus::Success);
    Ok(if failed {
        Outcome::NodeFailure
    } else {
        Outcome::Success
    })
}

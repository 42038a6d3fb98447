//! One module per subcommand.

pub mod airflow;
pub mod build;
pub mod clean;
pub mod clone;
pub mod compile;
pub mod debug;
pub mod deps;
pub mod docs;
mod docs_serve;
pub mod freshness;
pub mod init;
pub mod ls;
pub mod parse;
pub mod retry;
pub mod run;
pub mod run_operation;
pub mod seed;
pub mod show;
pub mod snapshot;
pub mod test;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mart_artifacts::{
    build_run_results, merge_retry, CompiledNodes, Invocation, RunResultsV6, Written,
};
use mart_compiler::ColumnTypes;
use mart_diagnostics::{Code, Diagnostic, Diagnostics};
use mart_graph::{NodeId, ResourceType};
use mart_runner::{NodeResult, NodeStatus, RunContext, RunOptions};

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

/// What one of the running commands (`run`, `seed`, `snapshot`, `test`, `build`) runs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    /// The command's name, as run_results.json's `args.which` records it.
    pub which: &'static str,
    pub types: &'static [ResourceType],
    /// What the summary counts ("models", "tests").
    pub what: &'static str,
    /// Tests follow the nodes they test into the selection (dbt's indirect selection).
    pub indirect_tests: bool,
}

pub(crate) const RUN: Plan = Plan {
    which: "run",
    types: &[ResourceType::Model],
    what: "models",
    indirect_tests: false,
};
pub(crate) const SEED: Plan = Plan {
    which: "seed",
    types: &[ResourceType::Seed],
    what: "seeds",
    indirect_tests: false,
};
pub(crate) const SNAPSHOT: Plan = Plan {
    which: "snapshot",
    types: &[ResourceType::Snapshot],
    what: "snapshots",
    indirect_tests: false,
};
pub(crate) const TEST: Plan = Plan {
    which: "test",
    types: &[ResourceType::Test, ResourceType::UnitTest],
    what: "tests",
    indirect_tests: true,
};
pub(crate) const BUILD: Plan = Plan {
    which: "build",
    types: &[
        ResourceType::Seed,
        ResourceType::Model,
        ResourceType::Snapshot,
        ResourceType::Test,
        ResourceType::UnitTest,
    ],
    what: "nodes",
    indirect_tests: true,
};

impl Plan {
    pub(crate) fn for_command(which: &str) -> Option<Plan> {
        [RUN, SEED, SNAPSHOT, TEST, BUILD]
            .into_iter()
            .find(|p| p.which == which)
    }
}

/// Selects, runs and reports one running command; writes manifest.json and
/// run_results.json.
pub(crate) fn execute(
    global: &crate::args::GlobalArgs,
    args: &RunArgs,
    plan: Plan,
) -> Result<Outcome, Diagnostics> {
    let session = Session::load(global)?;
    let selection = &args.selection;
    let indirect = plan
        .indirect_tests
        .then_some(args.indirect_selection.mode());
    let selected = session.select_with(selection, indirect)?;
    let selected: BTreeSet<NodeId> = selected
        .into_iter()
        .filter(|id| {
            session
                .manifest
                .node(id)
                .is_some_and(|n| plan.types.contains(&n.resource_type))
        })
        .collect();
    let record = serde_json::json!({
        "which": plan.which,
        "select": selection.select,
        "exclude": selection.exclude,
        "threads": args.threads,
        "full_refresh": args.full_refresh,
        "fail_fast": args.fail_fast,
        "empty": args.empty,
        "event_time_start": args.event_time_start.map(|t| t.to_string()),
        "event_time_end": args.event_time_end.map(|t| t.to_string()),
        "state": selection.state,
        "defer": args.defer.defer,
        "favor_state": args.defer.favor_state,
    });
    let record = record.as_object().cloned().unwrap_or_default();
    let flags = serde_json::json!({
        "WHICH": plan.which,
        "FULL_REFRESH": args.full_refresh,
        "FAIL_FAST": args.fail_fast,
        "EMPTY": args.empty,
    });
    session
        .env
        .set_flags(flags.as_object().cloned().unwrap_or_default());
    session
        .env
        .set_selected_resources(selected.iter().map(|id| id.to_string()).collect());
    crate::state::defer(
        &session,
        &args.defer,
        selection.state.as_deref(),
        &selected,
        &selected,
    )?;
    let ran = run_nodes(&session, args, plan, &selected)?;
    write_artifacts(&session, &ran, record, None)?;
    // Not freed: the command ends here, and freeing the Jinja environment and what the
    // run read costs a one-node run of a large project tens of milliseconds.
    std::mem::forget(session);
    Ok(ran.outcome)
}

/// `--event-time-start` and `--event-time-end` go together, start first (as in dbt).
fn check_event_times(args: &RunArgs) -> Result<(), Diagnostic> {
    let message = match (args.event_time_start, args.event_time_end) {
        (None, None) => return Ok(()),
        (Some(start), Some(end)) if start < end => return Ok(()),
        (Some(_), Some(_)) => "--event-time-start must be earlier than --event-time-end",
        (None, Some(_)) => "--event-time-end was given without --event-time-start; give both",
        (Some(_), None) => "--event-time-start was given without --event-time-end; give both",
    };
    Err(Diagnostic::error(Code::Usage, message).with_help(
        "e.g. --event-time-start 2024-01-01 --event-time-end 2024-01-03 (UTC, the end excluded)",
    ))
}

/// What a run did.
pub(crate) struct Ran {
    pub outcome: Outcome,
    pub results: Vec<NodeResult>,
    pub elapsed: Duration,
    /// The output column types the static analysis before the run derived.
    pub column_types: ColumnTypes,
}

impl Ran {
    fn nothing(outcome: Outcome) -> Self {
        Self {
            outcome,
            results: Vec::new(),
            elapsed: Duration::ZERO,
            column_types: ColumnTypes::new(),
        }
    }
}

/// Runs `selected` (already filtered to the plan's types) and prints progress and the summary.
pub(crate) fn run_nodes(
    session: &Session,
    args: &RunArgs,
    plan: Plan,
    selected: &BTreeSet<NodeId>,
) -> Result<Ran, Diagnostics> {
    let printer = session.printer;
    let threads = args.threads.unwrap_or(session.target.threads).max(1);
    check_event_times(args)?;
    printer.info(&format!("Running with mart {}", env!("CARGO_PKG_VERSION")));
    printer.info(&session.found_line());
    if selected.is_empty() {
        printer.info("Nothing to do: the selection matches no nodes of this kind.");
        return Ok(Ran::nothing(Outcome::Success));
    }
    printer.info("");
    printer.info(&format!(
        "Concurrency: {threads} threads (target='{}')",
        session.target.name
    ));
    let mut analysis = crate::static_checks::analyse_selection(session, selected)?;
    if analysis.refuses_run() {
        for d in analysis.diagnostics.iter().filter(|d| d.is_error()) {
            printer.diagnostic(d);
        }
        printer.info("static_analysis: strict found nodes it cannot prove valid; nothing was run.");
        return Ok(Ran::nothing(Outcome::NodeFailure));
    }
    let column_types = std::mem::take(&mut analysis.column_types);
    printer.info("");
    let runtime = runtime(threads)?;
    let (interrupt_tx, interrupt) = tokio::sync::watch::channel(false);
    let signal = stop_on_signals(&runtime, interrupt_tx)?;
    let started = Instant::now();
    let ctx = Arc::new(RunContext {
        manifest: session.manifest.clone(),
        env: session.env.clone(),
        connection: session.connection_config(),
        target_schema: session.target.schema.clone(),
        options: RunOptions {
            threads,
            full_refresh: args.full_refresh,
            fail_fast: args.fail_fast,
            tests_gate_children: plan.which == BUILD.which,
            lock_timeout: args.lock_timeout.map(Duration::from_secs),
            empty: args.empty,
            event_time_start: args.event_time_start,
            event_time_end: args.event_time_end,
        },
        reporter: Arc::new(RunPrinter::new(printer, session.manifest.clone())),
        interrupt: interrupt.clone(),
        retry_batches: args.retry_batches.clone(),
        run_end_context: Some(mart_artifacts::run_end_context),
        catalog: Default::default(),
        analysis,
    });
    let results = runtime
        .block_on(mart_runner::execute(ctx, selected))
        .map_err(|e| Diagnostics::from(e.0))?;
    let elapsed = started.elapsed();
    printer.summary(&session.manifest, &results, plan.what, elapsed);
    if *interrupt.borrow() {
        let signal = signal.load(Ordering::SeqCst);
        printer.info(&format!(
            "Interrupted by {}: running queries were cancelled and nothing else was started.",
            signal_name(signal)
        ));
        return Ok(Ran {
            outcome: Outcome::Interrupted(signal),
            results,
            elapsed,
            column_types,
        });
    }
    // `--warn-error`: a test that warns fails the command too.
    let warn_fails = session.printer.warn_error();
    let failed = results.iter().any(|r| match r.status {
        NodeStatus::Success => false,
        NodeStatus::Warn => warn_fails,
        _ => true,
    });
    let outcome = if failed {
        Outcome::NodeFailure
    } else {
        Outcome::Success
    };
    Ok(Ran {
        outcome,
        results,
        elapsed,
        column_types,
    })
}

/// On SIGINT (Ctrl-C), SIGTERM (how Airflow stops a task) or SIGHUP (a closed terminal),
/// the run cancels its queries and stops; the returned number is the signal's.
fn stop_on_signals(
    runtime: &tokio::runtime::Runtime,
    interrupt: tokio::sync::watch::Sender<bool>,
) -> Result<Arc<AtomicI32>, Diagnostic> {
    use tokio::signal::unix::{signal, SignalKind};
    let received = Arc::new(AtomicI32::new(0));
    let interrupt = Arc::new(interrupt);
    for (kind, number) in [
        (SignalKind::interrupt(), libc_signal::SIGINT),
        (SignalKind::terminate(), libc_signal::SIGTERM),
        (SignalKind::hangup(), libc_signal::SIGHUP),
    ] {
        // Registered on the runtime's reactor, so a signal is never missed once this returns.
        let mut stream = runtime.block_on(async { signal(kind) }).map_err(|e| {
            Diagnostic::error(Code::Io, format!("cannot listen for signal {number}: {e}"))
        })?;
        let received = received.clone();
        let interrupt = interrupt.clone();
        runtime.spawn(async move {
            if stream.recv().await.is_some() {
                // The first signal decides the exit code.
                let _ = received.compare_exchange(0, number, Ordering::SeqCst, Ordering::SeqCst);
                let _ = interrupt.send(true);
            }
        });
    }
    Ok(received)
}

/// The POSIX numbers of the signals a run stops on (the same on every Unix mart runs on).
mod libc_signal {
    pub const SIGHUP: i32 = 1;
    pub const SIGINT: i32 = 2;
    pub const SIGTERM: i32 = 15;
}

fn signal_name(number: i32) -> &'static str {
    match number {
        libc_signal::SIGHUP => "SIGHUP",
        libc_signal::SIGTERM => "SIGTERM",
        _ => "Ctrl-C",
    }
}

/// Writes target/manifest.json and target/run_results.json for this command. With
/// `previous`, the results are a retry's and are laid over the previous run's.
pub(crate) fn write_artifacts(
    session: &Session,
    ran: &Ran,
    record: serde_json::Map<String, serde_json::Value>,
    previous: Option<&RunResultsV6>,
) -> Result<(), Diagnostic> {
    let invocation = session.invocation.generated_now();
    let sql: BTreeMap<NodeId, String> = ran
        .results
        .iter()
        .filter_map(|r| r.compiled_sql.clone().map(|sql| (r.id.clone(), sql)))
        .collect();
    let column_types = ran
        .column_types
        .iter()
        .filter(|(id, _)| sql.contains_key(id))
        .map(|(id, types)| (id.clone(), types.clone()))
        .collect();
    write_manifest(session, &CompiledNodes { sql, column_types }, &invocation)?;
    let mut run_results = build_run_results(
        &session.manifest,
        &ran.results,
        ran.elapsed,
        record,
        &invocation,
    );
    if let Some(previous) = previous {
        run_results = merge_retry(previous, run_results);
    }
    let path = session.manifest.target_dir.join("run_results.json");
    mart_artifacts::write_json(&path, &run_results).map_err(|e| artifact_error(&path, &e))
}

/// Writes target/manifest.json (every command that loads the project does; see
/// [`mart_artifacts::write_manifest_file`] for when it is only updated) and, when the parse
/// changed, target/semantic_manifest.json.
pub(crate) fn write_manifest(
    session: &Session,
    compiled: &CompiledNodes,
    invocation: &Invocation,
) -> Result<(), Diagnostic> {
    let target_dir = &session.manifest.target_dir;
    let written = mart_artifacts::write_manifest_file(
        target_dir,
        session.parse_id.as_deref(),
        &session.manifest,
        &session.env,
        compiled,
        invocation,
    )
    .map_err(|e| artifact_error(&target_dir.join("manifest.json"), &e))?;
    let path = target_dir.join("semantic_manifest.json");
    if written == Written::Updated && path.exists() {
        // The same parse wrote it.
        return Ok(());
    }
    let semantic = mart_artifacts::build_semantic_manifest(&session.manifest);
    mart_artifacts::write_json(&path, &semantic).map_err(|e| artifact_error(&path, &e))
}

fn artifact_error(path: &std::path::Path, e: &std::io::Error) -> Diagnostic {
    Diagnostic::error(Code::Io, format!("cannot write {}: {e}", path.display()))
        .with_help("check that the target directory is writable")
}

//! `mart retry`: runs again the nodes that errored, failed or were skipped in the last
//! run_results.json, with the command and flags that run used.

use std::collections::BTreeSet;

use mart_diagnostics::{Code, Diagnostic, Diagnostics};
use mart_graph::NodeId;

use crate::args::{GlobalArgs, RunArgs, SelectArgs};
use crate::session::Session;
use crate::Outcome;

use super::Plan;

pub fn run(global: &GlobalArgs) -> Result<Outcome, Diagnostics> {
    let session = Session::load(global)?;
    let path = session.manifest.target_dir.join("run_results.json");
    let previous = mart_artifacts::read_run_results(&path).map_err(|e| {
        Diagnostic::error(Code::Usage, format!("cannot read {}: {e}", path.display()))
            .with_help("run mart run, seed, test or build first: retry re-runs what its run_results.json reports as failed")
    })?;
    let which = previous
        .args
        .get("which")
        .and_then(|w| w.as_str())
        .unwrap_or("build");
    let plan = Plan::for_command(which).ok_or_else(|| {
        Diagnostic::error(
            Code::Usage,
            format!(
                "{} was written by '{which}', which retry cannot repeat",
                path.display()
            ),
        )
        .with_help("retry repeats run, seed, snapshot, test and build")
    })?;
    let selected: BTreeSet<NodeId> = previous
        .results
        .iter()
        .filter(|r| r.needs_retry())
        .map(|r| NodeId::new(r.unique_id.clone()))
        .filter(|id| session.manifest.node(id).is_some())
        .collect();
    let flag = |key: &str| {
        previous
            .args
            .get(key)
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    };
    let time = |key: &str| {
        previous
            .args
            .get(key)
            .and_then(|v| v.as_str())
            .and_then(|t| mart_runner::parse_time(t).ok())
    };
    let args = RunArgs {
        selection: SelectArgs::default(),
        defer: crate::args::DeferArgs::default(),
        threads: previous
            .args
            .get("threads")
            .and_then(|v| v.as_u64())
            .map(|n| n as usize),
        full_refresh: flag("full_refresh"),
        fail_fast: flag("fail_fast"),
        // Retry runs the failed nodes themselves; no tests are added to them.
        indirect_selection: crate::args::IndirectTests::Empty,
        lock_timeout: None,
        empty: flag("empty"),
        event_time_start: time("event_time_start"),
        event_time_end: time("event_time_end"),
        // As dbt: only the failed batches of a model some of whose batches succeeded.
        retry_batches: previous
            .results
            .iter()
            .filter_map(|r| {
                let batches = r.batch_results.as_ref()?.batches()?;
                (!batches.successful.is_empty() && !batches.failed.is_empty())
                    .then(|| (NodeId::new(r.unique_id.clone()), batches))
            })
            .collect(),
    };
    let ran = super::run_nodes(&session, &args, plan, &selected)?;
    super::write_artifacts(&session, &ran, previous.args.clone(), Some(&previous))?;
    Ok(ran.outcome)
}

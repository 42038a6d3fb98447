//! The static analysis step of compile, run, build and test: notes printed, errors
//! returned with the nodes they stop.

use std::collections::BTreeSet;
use std::sync::Arc;

use mart_compiler::{AnalysisReport, CompiledNode, Compiler, KeptAnalyses};
use mart_diagnostics::Diagnostics;
use mart_runner::{PgAnalysisDatabase, PgQueryRunner};

use mart_graph::{NodeId, ResourceType};

use crate::session::Session;

/// Analyses `compiled`; prints every note, and every error unless `before_run` (a run
/// reports them as the failures of their nodes instead, and renders upstream nodes
/// without a database: a template's run_query() runs once, in its node's own build).
/// PostgreSQL (through a connection opened only if needed) judges SQL mart's parser
/// cannot read, and its catalog gives the columns of the sources.
pub(crate) fn analyse(
    session: &Session,
    compiled: &[CompiledNode],
    before_run: bool,
    kept: KeptLoading,
) -> Result<AnalysisReport, Diagnostics> {
    let runtime = crate::commands::runtime(2)?;
    let runner = Arc::new(PgQueryRunner::new(
        session.connection_config(),
        runtime.handle().clone(),
    ));
    let database = PgAnalysisDatabase::new(runner.clone());
    let renders: Option<Arc<dyn mart_jinja::QueryRunner>> =
        if before_run { None } else { Some(runner) };
    let compiler = Compiler::new(&session.manifest, &session.env, renders);
    let kept = kept.join().unwrap_or_else(|_| KeptAnalyses::none());
    let report = compiler.analyse(compiled, session.static_analysis, Some(&database), kept);
    for d in &report.diagnostics {
        if !before_run || !d.is_error() {
            session.printer.diagnostic(d);
        }
    }
    let s = report.summary;
    session.printer.debug(&format!(
        "Static analysis: {} nodes analysed, {} skipped; {} column references proven, {} into relations of unknown columns",
        s.analysed, s.skipped, s.checked, s.unchecked
    ));
    Ok(report)
}

/// The analysis of `parse`, and before a run, build or test: the selected models,
/// snapshots, tests and analyses compiled as `mart compile` would (incremental models as on a first run), but
/// without a database: a node whose render queries it is not analysed before the run.
pub(crate) fn analyse_selection(
    session: &Session,
    selected: &BTreeSet<NodeId>,
) -> Result<AnalysisReport, Diagnostics> {
    let manifest = &session.manifest;
    let ids: Vec<NodeId> = manifest
        .dag
        .order_of(selected)
        .into_iter()
        .filter(|id| {
            manifest.node(id).is_some_and(|n| {
                matches!(
                    n.resource_type,
                    ResourceType::Model
                        | ResourceType::Snapshot
                        | ResourceType::Test
                        | ResourceType::Analysis
                ) && session.static_analysis.unwrap_or(n.config.static_analysis)
                    != mart_project::StaticAnalysis::Off
            })
        })
        .collect();
    let kept = load_kept(session);
    // No database for these renders: a template's run_query() (which may change
    // relations) runs once, in the node's own compile; such nodes are left to it.
    let compiler = Compiler::new(manifest, &session.env, None);
    let compiled: Vec<CompiledNode> = compiler
        .compile_all(&ids, |_| Ok(()))
        .into_iter()
        .filter_map(Result::ok)
        .collect();
    analyse(session, &compiled, true, kept)
}

/// The kept analyses, being read while the command compiles.
pub(crate) type KeptLoading = std::thread::JoinHandle<KeptAnalyses>;

/// Starts reading the kept analyses of the session's target.
pub(crate) fn load_kept(session: &Session) -> KeptLoading {
    let target_dir = session.manifest.target_dir.clone();
    std::thread::spawn(move || KeptAnalyses::load(&target_dir, &crate::session::build_id()))
}

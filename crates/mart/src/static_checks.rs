//! The static analysis step of compile, run, build and test: notes printed, errors
//! returned with the nodes they stop.

use std::sync::Arc;

use mart_compiler::{AnalysisReport, CompiledNode, Compiler};
use mart_diagnostics::Diagnostics;
use mart_runner::{PgQueryRunner, PgSyntaxJudge};

use crate::args::GlobalArgs;
use crate::session::Session;

/// Analyses `compiled`; prints every note and error it finds. PostgreSQL (through a
/// connection opened only if needed) judges SQL mart's parser cannot read.
pub(crate) fn analyse(
    session: &Session,
    global: &GlobalArgs,
    compiled: &[CompiledNode],
) -> Result<AnalysisReport, Diagnostics> {
    let runtime = crate::commands::runtime(2)?;
    let runner = Arc::new(PgQueryRunner::new(
        session.connection_config(),
        runtime.handle().clone(),
    ));
    let judge = PgSyntaxJudge::new(runner.clone());
    let compiler = Compiler::new(&session.manifest, &session.env, Some(runner));
    let report = compiler.analyse(
        compiled,
        global.static_analysis.map(Into::into),
        Some(&judge),
    );
    for d in &report.diagnostics {
        session.printer.diagnostic(d);
    }
    let s = report.summary;
    session.printer.debug(&format!(
        "Static analysis: {} nodes analysed, {} skipped; {} column references proven, {} into relations of unknown columns",
        s.analysed, s.skipped, s.checked, s.unchecked
    ));
    Ok(report)
}

//! `mart parse`: load the project, analyse every model, snapshot, test and analysis
//! statically (rendered without a database), and write target/manifest.json, running
//! nothing (the cheapest way for tools such as Airflow integrations to get the manifest).

use std::collections::BTreeSet;

use mart_artifacts::CompiledNodes;
use mart_diagnostics::Diagnostics;
use mart_graph::NodeId;
use mart_project::StaticAnalysis;

use crate::args::GlobalArgs;
use crate::session::Session;
use crate::Outcome;

pub fn run(global: &GlobalArgs) -> Result<Outcome, Diagnostics> {
    let session = Session::load(global)?;
    let mut compiled = CompiledNodes::default();
    let mut failed = false;
    if session.static_analysis != Some(StaticAnalysis::Off) {
        let all: BTreeSet<NodeId> = session
            .manifest
            .nodes
            .values()
            .map(|n| n.id.clone())
            .collect();
        let analysis = crate::static_checks::analyse_selection(&session, &all)?;
        for d in analysis.diagnostics.iter().filter(|d| d.is_error()) {
            session.printer.diagnostic(d);
        }
        failed = analysis.has_errors();
        compiled.column_types = analysis.column_types;
    }
    let invocation = session.invocation.generated_now();
    super::write_manifest(&session, &compiled, &invocation)?;
    session.printer.info(&session.found_line());
    let path = session.manifest.target_dir.join("manifest.json");
    let path = path.strip_prefix(&session.manifest.root).unwrap_or(&path);
    session.printer.info(&format!("Wrote {}", path.display()));
    Ok(if failed {
        Outcome::NodeFailure
    } else {
        Outcome::Success
    })
}

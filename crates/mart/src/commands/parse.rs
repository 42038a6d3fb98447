//! `mart parse`: load the project, analyse every model, snapshot, test and analysis
//! statically (rendered without a database), and write target/manifest.json, running
//! nothing (the cheapest way for tools such as Airflow integrations to get the manifest).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use mart_artifacts::CompiledNodes;
use mart_diagnostics::Diagnostics;
use mart_graph::NodeId;
use mart_project::StaticAnalysis;

use crate::args::GlobalArgs;
use crate::session::Session;
use crate::Outcome;

pub fn run(global: &GlobalArgs) -> Result<Outcome, Diagnostics> {
    let session = Session::load(global)?;
    let manifest_path = session.manifest.target_dir.join("manifest.json");
    let clean = CleanParse::of(&session);
    let mut compiled = CompiledNodes::default();
    let mut failed = false;
    let target_dir = &session.manifest.target_dir;
    let unchanged = clean.as_ref().is_some_and(|c| c.recorded(target_dir));
    let mut found_nothing = unchanged;
    if unchanged {
        session.printer.debug(
            "Static analysis: the saved parse is unchanged since a parse that found nothing",
        );
    } else if session.static_analysis != Some(StaticAnalysis::Off) {
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
        found_nothing = analysis.diagnostics.is_empty();
        compiled.column_types = analysis.column_types;
    }
    let invocation = session.invocation.generated_now();
    super::write_manifest(&session, &compiled, &invocation)?;
    if let Some(clean) = clean.filter(|_| found_nothing) {
        clean.record(target_dir);
    }
    session.printer.info(&session.found_line());
    let path = manifest_path
        .strip_prefix(&session.manifest.root)
        .unwrap_or(&manifest_path);
    session.printer.info(&format!("Wrote {}", path.display()));
    Ok(if failed {
        Outcome::NodeFailure
    } else {
        Outcome::Success
    })
}

/// A parse whose analysis found nothing, kept in `<target>/static_analysis.parse`: the
/// next `mart parse` of the same saved parse (the same files and settings, the same mart
/// and `--static-analysis`), with manifest.json still the one it wrote whole or that file
/// updated in place since (the one-node runs of Airflow tasks), would render every node
/// again to find nothing again, and does not. (A source's columns changed in the
/// database are seen by the next compile or run.)
struct CleanParse {
    file: PathBuf,
    /// build, saved parse and flag.
    key: String,
}

impl CleanParse {
    fn of(session: &Session) -> Option<Self> {
        let parse_id = session.parse_id.as_deref()?;
        Some(Self {
            file: session.manifest.target_dir.join("static_analysis.parse"),
            key: format!(
                "{} {parse_id} {:?}",
                crate::session::build_id(),
                session.static_analysis
            ),
        })
    }

    fn line(&self, target_dir: &Path) -> Option<String> {
        let (parse_id, written_whole_ns) = mart_artifacts::manifest_lineage(target_dir)?;
        Some(format!("{} {parse_id} {written_whole_ns}\n", self.key))
    }

    fn recorded(&self, target_dir: &Path) -> bool {
        let kept = std::fs::read_to_string(&self.file).ok();
        kept.is_some() && kept == self.line(target_dir)
    }

    /// Not recording only costs the next parse its analysis.
    fn record(&self, target_dir: &Path) {
        if let Some(line) = self.line(target_dir) {
            let _ = std::fs::write(&self.file, line);
        }
    }
}

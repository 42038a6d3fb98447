//! `mart parse`: load the project and write target/manifest.json, running nothing (the
//! cheapest way for tools such as Airflow integrations to get the manifest).

use std::collections::BTreeMap;

use mart_diagnostics::Diagnostics;

use crate::args::GlobalArgs;
use crate::session::Session;
use crate::Outcome;

pub fn run(global: &GlobalArgs) -> Result<Outcome, Diagnostics> {
    let session = Session::load(global)?;
    let invocation = session.invocation.generated_now();
    super::write_manifest(&session, &BTreeMap::new(), &invocation)?;
    session.printer.info(&session.found_line());
    let path = session.manifest.target_dir.join("manifest.json");
    let path = path.strip_prefix(&session.manifest.root).unwrap_or(&path);
    session.printer.info(&format!("Wrote {}", path.display()));
    Ok(Outcome::Success)
}

//! `mart snapshot`: bring the selected snapshots up to date.

use mart_diagnostics::Diagnostics;

use crate::args::{GlobalArgs, RunArgs};
use crate::Outcome;

pub fn run(global: &GlobalArgs, args: &RunArgs) -> Result<Outcome, Diagnostics> {
    super::execute(global, args, super::SNAPSHOT)
}

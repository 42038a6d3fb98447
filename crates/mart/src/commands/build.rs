//! `mart build`: seeds, models, snapshots and tests of the selection in one DAG order;
//! a failing test skips what depends on the node it tests.

use mart_diagnostics::Diagnostics;

use crate::args::{GlobalArgs, RunArgs};
use crate::Outcome;

pub fn run(global: &GlobalArgs, args: &RunArgs) -> Result<Outcome, Diagnostics> {
    super::execute(global, args, super::BUILD)
}

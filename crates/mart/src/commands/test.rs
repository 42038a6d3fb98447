//! `mart test`: run the selected data tests (and the tests of the selected nodes).

use mart_diagnostics::Diagnostics;

use crate::args::{GlobalArgs, RunArgs};
use crate::Outcome;

pub fn run(global: &GlobalArgs, args: &RunArgs) -> Result<Outcome, Diagnostics> {
    super::execute(global, args, super::TEST)
}

//! `mart run-operation <macro> --args '{...}'`: call a project macro with a live
//! connection, so that run_query() and statement blocks inside it execute.

use std::sync::{mpsc, Arc};
use std::time::Instant;

use mart_compiler::Compiler;
use mart_diagnostics::Diagnostics;
use mart_jinja::QueryRunner;
use mart_runner::PgQueryRunner;

use crate::args::{GlobalArgs, RunOperationArgs};
use crate::session::{parse_mapping, Session};
use crate::Outcome;

/// Until the returned sender is dropped, a line every few seconds on a terminal: a macro
/// that generates data can run for minutes without printing anything.
fn say_alive(
    printer: crate::printer::Printer,
    name: String,
) -> (mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (finished, wait) = mpsc::channel::<()>();
    let alive = std::thread::spawn(move || {
        let started = Instant::now();
        while let Err(mpsc::RecvTimeoutError::Timeout) =
            wait.recv_timeout(mart_runner::HEARTBEAT_INTERVAL)
        {
            printer.heartbeat(&format!(
                "  still running macro '{name}' ({} s)",
                started.elapsed().as_secs()
            ));
        }
    });
    (finished, alive)
}

pub fn run(global: &GlobalArgs, args: &RunOperationArgs) -> Result<Outcome, Diagnostics> {
    let macro_args = parse_mapping("--args", args.args.as_deref())?;
    let session = Session::load(global)?;
    session.env.check_macro(&args.macro_name)?;
    let printer = session.printer;
    printer.info(&format!("Running with mart {}", env!("CARGO_PKG_VERSION")));
    printer.info(&format!("Running macro '{}'", args.macro_name));
    let runtime = super::runtime(2)?;
    let runner: Arc<dyn QueryRunner> = Arc::new(PgQueryRunner::new(
        session.connection_config(),
        runtime.handle().clone(),
    ));
    let started = Instant::now();
    let (finished, alive) = say_alive(printer, args.macro_name.clone());
    let compiler = Compiler::new(&session.manifest, &session.env, Some(runner));
    let run = compiler.run_macro(&args.macro_name, &macro_args);
    drop(finished);
    let _ = alive.join();
    for line in &run.logs {
        printer.info(line);
    }
    let seconds = started.elapsed().as_secs_f64();
    match run.result {
        Ok(()) => {
            printer.info(&format!(
                "Macro '{}' finished in {seconds:.2}s",
                args.macro_name
            ));
            Ok(Outcome::Success)
        }
        // The macro ran and failed (a database error, raise_compiler_error): like a
        // failed node, exit 1 with the error at its place in the macro file.
        Err(diagnostic) => {
            printer.diagnostic(&diagnostic);
            printer.info(&format!(
                "Macro '{}' failed after {seconds:.2}s",
                args.macro_name
            ));
            Ok(Outcome::NodeFailure)
        }
    }
}

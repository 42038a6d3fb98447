//! The `mart` binary: parses arguments, runs one command, maps the outcome to an exit
//! code (0 success, 1 a node failed or `--warn-error` turned a warning into an error, 2
//! project, usage or connection error, 128 + the signal's number when a signal stopped a
//! run: 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP).

mod args;
mod commands;
mod printer;
mod selectors;
mod session;
mod state;
mod static_checks;
mod warn_error;

use std::process::ExitCode;

use clap::Parser;
use mart_diagnostics::Diagnostics;

use crate::args::{Cli, Command, SourceCommand};
use crate::printer::Printer;

// Loading a project allocates many small strings and maps; mimalloc is markedly faster
// at that than the system allocator, which every one-node Airflow task pays for.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How a command ended when it did not fail to start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// A model, seed or test failed.
    NodeFailure,
    /// Stopped by this signal (SIGINT, SIGTERM or SIGHUP).
    Interrupted(i32),
}

fn main() -> ExitCode {
    // A command's memory is mostly fresh and kept to the end: transparent huge pages made
    // the kernel clear (and first compact) 2 MiB at a time for allocations touched only in
    // part, twice the system time of parsing 100,000 models. Not being able to say so to
    // the kernel only costs that time.
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    // Before any thread starts: it sets environment variables.
    args::read_dbt_environment();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let printer = Printer::new(&cli.global);
    match warn_error::WarnErrorPolicy::from_flags(
        cli.global.warn_error,
        cli.global.warn_error_options.as_deref(),
    ) {
        Ok(policy) => Printer::set_warn_error_policy(policy),
        Err(d) => {
            printer.diagnostic(&d);
            return ExitCode::from(2);
        }
    }
    if let Some(dir) = &cli.global.log_path {
        if let Err(d) = Printer::open_log_file(dir) {
            printer.diagnostic(&d);
            return ExitCode::from(2);
        }
    }
    let result: Result<Outcome, Diagnostics> = match &cli.command {
        Command::Compile(args) => commands::compile::run(&cli.global, args),
        Command::Show(args) => commands::show::run(&cli.global, args),
        Command::Init(args) => commands::init::run(&cli.global, args),
        Command::Source(args) => match &args.command {
            SourceCommand::Freshness(args) => commands::freshness::run(&cli.global, args),
        },
        Command::Run(args) => commands::run::run(&cli.global, args),
        Command::Seed(args) => commands::seed::run(&cli.global, args),
        Command::Test(args) => commands::test::run(&cli.global, args),
        Command::Build(args) => commands::build::run(&cli.global, args),
        Command::Retry => commands::retry::run(&cli.global),
        Command::Snapshot(args) => commands::snapshot::run(&cli.global, args),
        Command::Ls(args) => commands::ls::run(&cli.global, args),
        Command::Clone(args) => commands::clone::run(&cli.global, args),
        Command::Parse => commands::parse::run(&cli.global),
        Command::Debug => commands::debug::run(&cli.global),
        Command::Clean => commands::clean::run(&cli.global),
        Command::Deps(args) => commands::deps::run(&cli.global, args),
        Command::Docs(args) => commands::docs::run(&cli.global, args),
        Command::Airflow(args) => commands::airflow::run(&cli.global, args),
        Command::RunOperation(args) => commands::run_operation::run(&cli.global, args),
    };
    let warnings_as_errors = printer.warnings_as_errors();
    match result {
        Ok(Outcome::Success) if warnings_as_errors > 0 => {
            report_warnings_as_errors(&printer, warnings_as_errors);
            ExitCode::from(1)
        }
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::NodeFailure) => ExitCode::from(1),
        // The shell's convention for a process ended by a signal.
        Ok(Outcome::Interrupted(signal)) => ExitCode::from(128 + signal.clamp(1, 127) as u8),
        // Stopped by `Printer::stop_on_warnings`: the warnings were the errors.
        Err(diagnostics) if !diagnostics.has_errors() && warnings_as_errors > 0 => {
            report_warnings_as_errors(&printer, warnings_as_errors);
            ExitCode::from(1)
        }
        Err(diagnostics) => {
            for d in diagnostics.iter() {
                printer.diagnostic(d);
            }
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            if errors > 1 {
                printer.info(&format!("{errors} errors; nothing was run."));
            }
            ExitCode::from(2)
        }
    }
}

fn report_warnings_as_errors(printer: &Printer, count: usize) {
    let plural = if count == 1 { "" } else { "s" };
    printer.diagnostic(
        &mart_diagnostics::Diagnostic::error(
            mart_diagnostics::Code::Usage,
            format!("{count} warning{plural} treated as error{plural} (--warn-error / --warn-error-options)"),
        )
        .with_help("fix what the warnings say, or run without --warn-error (or name them in --warn-error-options' `warn` or `silence`)"),
    );
}

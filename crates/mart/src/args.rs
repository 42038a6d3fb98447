//! Command-line arguments, as dbt users know them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "mart",
    version,
    about = "Compile, run, seed, test, build and list SQL models on PostgreSQL (dbt projects run unchanged)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// The project folder (holding project.yml or dbt_project.yml).
    #[arg(long, global = true, value_name = "DIR", env = "MART_PROJECT_DIR")]
    pub project_dir: Option<PathBuf>,
    /// The folder holding profiles.yml (else $MART_PROFILES_DIR, the project folder, ~/.mart/).
    #[arg(long, global = true, value_name = "DIR")]
    pub profiles_dir: Option<PathBuf>,
    /// The target of the profile to use (else the profile's `target:`).
    #[arg(long, short = 't', global = true, value_name = "NAME")]
    pub target: Option<String>,
    /// Variables for var(), as YAML or JSON: --vars '{date_id: 2024-08-20}'.
    #[arg(long, global = true, value_name = "YAML")]
    pub vars: Option<String>,
    /// Output format of log lines.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Never colour the output (colour is only used on a terminal anyway).
    #[arg(long, global = true)]
    pub no_color: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile models and tests to SQL under <target-path>/compiled without running them.
    Compile(SelectArgs),
    /// Materialize models (views, tables; ephemerals are inlined) in DAG order.
    Run(RunArgs),
    /// Load CSV seeds into tables with COPY.
    Seed(RunArgs),
    /// Run data tests (generic and singular) and report PASS/WARN/FAIL.
    Test(RunArgs),
    /// Seeds, models, snapshots and tests in one DAG order; a failing test skips what
    /// depends on the node it tests.
    Build(RunArgs),
    /// Run again what errored, failed or was skipped in the last run_results.json.
    Retry,
    /// Record the changes of snapshot queries as SCD type 2 history tables.
    Snapshot(RunArgs),
    /// List the project's nodes.
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Check the project, the profile and the database connection.
    Debug,
    /// Delete the project's clean-targets.
    Clean,
    /// Call a project macro (with a database connection for run_query and statements).
    RunOperation(RunOperationArgs),
}

#[derive(Debug, Args, Clone)]
pub struct RunOperationArgs {
    /// The macro to call.
    #[arg(value_name = "MACRO")]
    pub macro_name: String,
    /// Keyword arguments for the macro, as YAML or JSON: --args '{rows: 1000}'.
    #[arg(long, value_name = "YAML")]
    pub args: Option<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct SelectArgs {
    /// Nodes to include (dbt selection syntax; space = union, comma = intersection).
    #[arg(long, short = 's', visible_alias = "models", short_alias = 'm', num_args = 1.., value_name = "SELECTOR")]
    pub select: Vec<String>,
    /// Nodes to leave out.
    #[arg(long, num_args = 1.., value_name = "SELECTOR")]
    pub exclude: Vec<String>,
}

#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub selection: SelectArgs,
    /// How many nodes run at once (else the profile's threads).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Rebuild from scratch (seeds are dropped and recreated; snapshots are never rebuilt).
    #[arg(long)]
    pub full_refresh: bool,
    /// Stop at the first failure; what did not start is skipped.
    #[arg(long, short = 'x')]
    pub fail_fast: bool,
}

#[derive(Debug, Args, Clone)]
pub struct LsArgs {
    #[command(flatten)]
    pub selection: SelectArgs,
    /// Only nodes of these types (model, seed, source, ...).
    #[arg(long, num_args = 1.., value_name = "TYPE")]
    pub resource_type: Vec<String>,
    /// How each node is printed.
    #[arg(long, short = 'o', value_enum, default_value_t = LsOutput::Selector)]
    pub output: LsOutput,
    /// With --output json: the keys to print (comma- or space-separated).
    #[arg(long, num_args = 1.., value_name = "KEY", value_delimiter = ',')]
    pub output_keys: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LsOutput {
    Selector,
    Name,
    Path,
    Json,
}

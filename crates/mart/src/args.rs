//! Command-line arguments, as dbt users know them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "mart",
    version,
    about = "Compile, run, seed, test, build, list and document SQL models on PostgreSQL (dbt projects run unchanged)."
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
    /// The profile to use (else the project file's `profile:`).
    #[arg(long, global = true, value_name = "NAME", env = "MART_PROFILE")]
    pub profile: Option<String>,
    /// The target of the profile to use (else the profile's `target:`).
    #[arg(
        long,
        short = 't',
        global = true,
        value_name = "NAME",
        env = "MART_TARGET"
    )]
    pub target: Option<String>,
    /// Where artifacts go, instead of the project file's `target-path`.
    #[arg(long, global = true, value_name = "DIR", env = "MART_TARGET_PATH")]
    pub target_path: Option<String>,
    /// Variables for var(), as YAML or JSON: --vars '{date_id: 2024-08-20}'.
    #[arg(long, global = true, value_name = "YAML")]
    pub vars: Option<String>,
    /// Output format of log lines.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "MART_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// The least important lines shown: debug, info (default), warn, error or none.
    #[arg(long, global = true, value_enum, default_value_t = LogLevel::Info, env = "MART_LOG_LEVEL")]
    pub log_level: LogLevel,
    /// Show only errors and the command's result (ls, compile, show output).
    #[arg(long, short = 'q', global = true, env = "MART_QUIET")]
    pub quiet: bool,
    /// Also write every log line, whatever --log-level, to DIR/mart.log.
    #[arg(long, global = true, value_name = "DIR", env = "MART_LOG_PATH")]
    pub log_path: Option<PathBuf>,
    /// Never colour the output (colour is only used on a terminal anyway).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// How compile, run, build and test treat the SQL analysis of every node, over each
    /// node's `static_analysis` config: `baseline` fails a node only where the analysis
    /// is sure, `strict` also fails what it cannot prove (and then runs nothing), `off`
    /// skips it.
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "MODE",
        env = "MART_STATIC_ANALYSIS"
    )]
    pub static_analysis: Option<StaticAnalysisArg>,
    /// Parse the whole project again instead of reusing the saved parse of an unchanged
    /// project (<target-path>/partial_parse/).
    #[arg(long, global = true, env = "MART_NO_PARTIAL_PARSE")]
    pub no_partial_parse: bool,
    /// Treat warnings as errors: a warning is printed as an error and the command fails
    /// (exit 1) without running anything after it; a test that warns fails too.
    #[arg(long, global = true, env = "MART_WARN_ERROR")]
    pub warn_error: bool,
    /// Which warnings are errors, stay warnings or are silenced, by dbt's event names:
    /// '{"error": "all" | [...], "warn": [...], "silence": [...]}' (YAML or JSON;
    /// `include` / `exclude` are the old names of `error` / `warn`).
    #[arg(
        long,
        global = true,
        value_name = "OPTIONS",
        env = "MART_WARN_ERROR_OPTIONS"
    )]
    pub warn_error_options: Option<String>,
}

/// Log levels, least important first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
    None,
}

/// dbt's environment variables, read as mart's own when those are not set, so that a
/// dbt user's environment (CI jobs, Airflow connections) works unchanged. A `DBT_` value
/// that turns a flag off (`DBT_PARTIAL_PARSE=false`) maps to mart's flag that turns it on.
pub fn read_dbt_environment() {
    const SAME: &[(&str, &str)] = &[
        ("DBT_PROJECT_DIR", "MART_PROJECT_DIR"),
        ("DBT_PROFILES_DIR", "MART_PROFILES_DIR"),
        ("DBT_PROFILE", "MART_PROFILE"),
        ("DBT_TARGET", "MART_TARGET"),
        ("DBT_TARGET_PATH", "MART_TARGET_PATH"),
        ("DBT_LOG_FORMAT", "MART_LOG_FORMAT"),
        ("DBT_LOG_LEVEL", "MART_LOG_LEVEL"),
        ("DBT_LOG_PATH", "MART_LOG_PATH"),
        ("DBT_QUIET", "MART_QUIET"),
        ("DBT_WARN_ERROR", "MART_WARN_ERROR"),
        ("DBT_WARN_ERROR_OPTIONS", "MART_WARN_ERROR_OPTIONS"),
        ("DBT_FAIL_FAST", "MART_FAIL_FAST"),
        ("DBT_THREADS", "MART_THREADS"),
        ("DBT_STATE", "MART_STATE"),
        ("DBT_DEFER", "MART_DEFER"),
        ("DBT_DEFER_STATE", "MART_DEFER_STATE"),
        ("DBT_FAVOR_STATE", "MART_FAVOR_STATE"),
    ];
    for (dbt, mart) in SAME {
        if std::env::var_os(mart).is_none() {
            if let Some(value) = std::env::var_os(dbt) {
                std::env::set_var(mart, value);
            }
        }
    }
    let off = |name: &str| {
        std::env::var(name)
            .is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "false" | "0" | "no"))
    };
    if off("DBT_PARTIAL_PARSE") && std::env::var_os("MART_NO_PARTIAL_PARSE").is_none() {
        std::env::set_var("MART_NO_PARTIAL_PARSE", "true");
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StaticAnalysisArg {
    Strict,
    Baseline,
    Off,
}

impl From<StaticAnalysisArg> for mart_project::StaticAnalysis {
    fn from(arg: StaticAnalysisArg) -> Self {
        match arg {
            StaticAnalysisArg::Strict => Self::Strict,
            StaticAnalysisArg::Baseline => Self::Baseline,
            StaticAnalysisArg::Off => Self::Off,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile models and tests to SQL under <target-path>/compiled without running them.
    Compile(CompileArgs),
    /// Compile one node (or --inline SQL), run it with a limit and print the rows.
    Show(ShowArgs),
    /// Commands about sources: `mart source freshness`.
    Source(SourceArgs),
    /// Create a new project folder (dbt's starter shape) with a profiles.yml.
    Init(InitArgs),
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
    /// Create the selected models, seeds and snapshots in the target as views of the
    /// --state's relations (dbt clone); existing ones are kept unless --full-refresh.
    Clone(CloneArgs),
    /// Load the project and write <target-path>/manifest.json without running anything.
    Parse,
    /// List the project's nodes.
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Check the project, the profile and the database connection.
    Debug,
    /// Delete the project's clean-targets.
    Clean,
    /// Install the packages of packages.yml into packages-install-path (package-lock.yml).
    Deps(DepsArgs),
    /// Call a project macro (with a database connection for run_query and statements).
    RunOperation(RunOperationArgs),
    /// Write the Airflow DAG file: one task per model, seed and snapshot.
    Airflow(AirflowArgs),
    /// Generate or serve the docs site (<target-path>/docs).
    Docs(DocsArgs),
}

#[derive(Debug, Args, Clone)]
pub struct DepsArgs {
    /// Resolve the packages again, ignoring package-lock.yml, and rewrite it.
    #[arg(long)]
    pub upgrade: bool,
    /// Only resolve the packages and write package-lock.yml; install nothing.
    #[arg(long)]
    pub lock: bool,
}

#[derive(Debug, Args, Clone)]
pub struct DocsArgs {
    #[command(subcommand)]
    pub command: DocsCommand,
}

#[derive(Debug, Subcommand, Clone)]
pub enum DocsCommand {
    /// Compile every node and write the static site: index, node pages, lineage.
    Generate(DocsGenerateArgs),
    /// Serve the generated site on 127.0.0.1.
    Serve(DocsServeArgs),
}

#[derive(Debug, Args, Clone)]
pub struct DocsGenerateArgs {
    /// Do not ask the database for column types (no connection is opened for them).
    #[arg(long)]
    pub empty_catalog: bool,
}

#[derive(Debug, Args, Clone)]
pub struct DocsServeArgs {
    /// The port to listen on (127.0.0.1 only); 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
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

#[derive(Debug, Args, Clone)]
pub struct InitArgs {
    /// The project's name, and its folder's (under --project-dir, else here).
    #[arg(value_name = "PROJECT_NAME")]
    pub project_name: String,
    /// Write no profiles.yml.
    #[arg(long)]
    pub skip_profile_setup: bool,
}

#[derive(Debug, Args, Clone)]
pub struct SourceArgs {
    #[command(subcommand)]
    pub command: SourceCommand,
}

#[derive(Debug, Subcommand, Clone)]
pub enum SourceCommand {
    /// Check how recent each source's newest row is (loaded_at_field) against its
    /// freshness thresholds; writes sources.json.
    Freshness(FreshnessArgs),
}

#[derive(Debug, Args, Clone)]
pub struct FreshnessArgs {
    #[command(flatten)]
    pub selection: SelectArgs,
    /// Where to write the results (default: <target-path>/sources.json).
    #[arg(long, short = 'o', value_name = "PATH")]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct CompileArgs {
    #[command(flatten)]
    pub selection: SelectArgs,
    #[command(flatten)]
    pub defer: DeferArgs,
    /// Compile this SQL (Jinja, with ref() and source()) instead of project nodes, and
    /// print it.
    #[arg(long, value_name = "SQL", conflicts_with_all = ["select", "exclude"])]
    pub inline: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct ShowArgs {
    #[command(flatten)]
    pub selection: SelectArgs,
    #[command(flatten)]
    pub defer: DeferArgs,
    /// Preview this SQL (Jinja, with ref() and source()) instead of a node.
    #[arg(long, value_name = "SQL", conflicts_with_all = ["select", "exclude"])]
    pub inline: Option<String>,
    /// How many rows the database returns and mart prints (a negative number: all).
    #[arg(long, default_value_t = 5, allow_negative_numbers = true)]
    pub limit: i64,
    /// `text` (a table) or `json` (`{"node": ..., "show": [{column: value}, ...]}`).
    #[arg(long, value_enum, default_value_t = ShowOutput::Text)]
    pub output: ShowOutput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowOutput {
    Text,
    Json,
}

#[derive(Debug, Args, Clone, Default)]
pub struct SelectArgs {
    /// Nodes to include (dbt selection syntax; space = union, comma = intersection).
    #[arg(long, short = 's', visible_alias = "models", short_alias = 'm', num_args = 1.., value_name = "SELECTOR")]
    pub select: Vec<String>,
    /// Nodes to leave out.
    #[arg(long, num_args = 1.., value_name = "SELECTOR")]
    pub exclude: Vec<String>,
    /// A named selector of selectors.yml (instead of --select / --exclude).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["select", "exclude"])]
    pub selector: Option<String>,
    /// A folder holding the manifest.json (and run_results.json) of an earlier run, which
    /// the `state:` and `result:` selectors compare with.
    #[arg(long, value_name = "DIR", env = "MART_STATE")]
    pub state: Option<PathBuf>,
}

/// dbt's deferral: refs to nodes this command does not build read another environment's
/// relations (a production run's manifest.json).
#[derive(Debug, Args, Clone, Default)]
pub struct DeferArgs {
    /// A ref() to a node that is not selected reads the state's relation when the target
    /// has no relation of its own for it.
    #[arg(long, env = "MART_DEFER")]
    pub defer: bool,
    /// The folder of the manifest.json to defer to (else --state).
    #[arg(long, value_name = "DIR", env = "MART_DEFER_STATE")]
    pub defer_state: Option<PathBuf>,
    /// With --defer: read the state's relation for every node that is not selected, even
    /// when the target has one.
    #[arg(long, env = "MART_FAVOR_STATE")]
    pub favor_state: bool,
}

#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub selection: SelectArgs,
    #[command(flatten)]
    pub defer: DeferArgs,
    /// How many nodes run at once (else the profile's threads).
    #[arg(long, value_name = "N", env = "MART_THREADS")]
    pub threads: Option<usize>,
    /// Rebuild from scratch (seeds are dropped and recreated; snapshots are never rebuilt).
    #[arg(long)]
    pub full_refresh: bool,
    /// Stop at the first failure; what did not start is skipped.
    #[arg(long, short = 'x', env = "MART_FAIL_FAST")]
    pub fail_fast: bool,
    /// Which tests of the selected nodes `test` and `build` add: eager (a test with any
    /// parent selected), cautious (all parents selected), buildable (each parent selected
    /// or an ancestor of a selected node), empty (only tests selected directly).
    #[arg(long, value_enum, default_value_t = IndirectTests::Eager)]
    pub indirect_selection: IndirectTests,
    /// Build every relation with its columns but no rows: refs and sources read zero rows
    /// (`(select * from R where false limit 0)`), as dbt's --empty.
    #[arg(long)]
    pub empty: bool,
    /// When another run holds the target (same database and schema), give up after this
    /// many seconds instead of waiting for it to finish.
    #[arg(long, value_name = "SECONDS")]
    pub lock_timeout: Option<u64>,
    /// Microbatch models build their batches from this time (UTC, inclusive), e.g.
    /// 2024-01-01 or '2024-01-01 06:00:00'; needs --event-time-end.
    #[arg(long, value_name = "TIME", value_parser = event_time)]
    pub event_time_start: Option<mart_runner::NaiveDateTime>,
    /// ... up to this time (exclusive); needs --event-time-start.
    #[arg(long, value_name = "TIME", value_parser = event_time)]
    pub event_time_end: Option<mart_runner::NaiveDateTime>,
    /// `mart retry`: the failed batches of the microbatch models that partly succeeded.
    #[arg(skip)]
    pub retry_batches: std::collections::HashMap<mart_graph::NodeId, mart_runner::BatchResults>,
}

fn event_time(text: &str) -> Result<mart_runner::NaiveDateTime, String> {
    mart_runner::parse_time(text)
}

#[derive(Debug, Args, Clone)]
pub struct CloneArgs {
    #[command(flatten)]
    pub selection: SelectArgs,
    /// How many relations are created at once (else the profile's threads).
    #[arg(long, value_name = "N", env = "MART_THREADS")]
    pub threads: Option<usize>,
    /// Replace relations the target has already (else they are kept).
    #[arg(long)]
    pub full_refresh: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IndirectTests {
    Eager,
    Cautious,
    Buildable,
    Empty,
}

impl IndirectTests {
    pub fn mode(self) -> mart_graph::IndirectSelection {
        match self {
            IndirectTests::Eager => mart_graph::IndirectSelection::Eager,
            IndirectTests::Cautious => mart_graph::IndirectSelection::Cautious,
            IndirectTests::Buildable => mart_graph::IndirectSelection::Buildable,
            IndirectTests::Empty => mart_graph::IndirectSelection::Empty,
        }
    }
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
    /// Which tests of the selected nodes are listed too (as in `test` and `build`).
    #[arg(long, value_enum, default_value_t = IndirectTests::Eager)]
    pub indirect_selection: IndirectTests,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LsOutput {
    Selector,
    Name,
    Path,
    Json,
}

#[derive(Debug, Args, Clone)]
pub struct AirflowArgs {
    #[command(flatten)]
    pub selection: SelectArgs,
    /// The folder the DAG file `<dag-id>.py` is written to.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The DAG id (else the project name).
    #[arg(long, value_name = "ID")]
    pub dag_id: Option<String>,
    /// `@daily`, `@hourly`, a cron expression, or `none` (runs only when triggered).
    #[arg(long, default_value = "@daily")]
    pub schedule: String,
    /// The first logical date, YYYY-MM-DD in --timezone.
    #[arg(long, value_name = "DATE", default_value = "2024-01-01")]
    pub start_date: String,
    /// The time zone of the date passed to the tasks (and of --start-date).
    #[arg(long, value_name = "TZ", default_value = "Asia/Seoul")]
    pub timezone: String,
    /// The var that receives the logical date (YYYY-MM-DD in --timezone).
    #[arg(long, value_name = "NAME", default_value = "date_id")]
    pub date_var: String,
    /// Where the data tests run.
    #[arg(long, value_enum, default_value_t = AirflowTests::AfterEach)]
    pub tests: AirflowTests,
    /// How often Airflow retries a failed task.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub retries: u32,
    /// Minutes between retries.
    #[arg(long, value_name = "MINUTES", default_value_t = 5)]
    pub retry_delay_minutes: u32,
    /// Tasks of one DAG run at once (else the target's threads).
    #[arg(long, value_name = "N")]
    pub max_active_tasks: Option<usize>,
    /// The Airflow pool of every task (else Airflow's default_pool).
    #[arg(long, value_name = "NAME")]
    pub pool: Option<String>,
    /// The mart executable the tasks call.
    #[arg(long, value_name = "PATH", default_value = "mart")]
    pub mart_path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AirflowTests {
    /// A test task after each node with tests; what depends on the node waits for them.
    AfterEach,
    /// One test task after all others.
    AtEnd,
    /// No test tasks.
    None,
}

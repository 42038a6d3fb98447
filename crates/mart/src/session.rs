//! Loading what every command needs: project, profile target, vars, manifest.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mart_compiler::{load_saved_parse, parse_cache_path, save_parse, Manifest};
use mart_diagnostics::{Code, Diagnostic, Diagnostics};
use mart_graph::NodeId;
use mart_jinja::JinjaEnv;
use mart_postgres::ConnectionConfig;
use mart_project::{load_target, profile_search_dirs, InputStamp, Project, ProjectConfig, Target};

use crate::args::{GlobalArgs, SelectArgs};
use crate::printer::Printer;

/// A loaded project, ready for a command.
pub struct Session {
    pub root: PathBuf,
    pub target: Target,
    pub env: Arc<JinjaEnv>,
    pub manifest: Arc<Manifest>,
    /// The command's id and start, shared by the Jinja context and the artifacts.
    pub invocation: mart_artifacts::Invocation,
    /// The saved parse's [`mart_compiler::SavedParse::content_id`] (read or just saved):
    /// manifest.json written from the same one is updated, not rewritten.
    pub parse_id: Option<String>,
    macro_file_count: usize,
    pub printer: Printer,
    /// `--static-analysis`, over every node's config.
    pub static_analysis: Option<mart_project::StaticAnalysis>,
}

pub fn project_root(global: &GlobalArgs) -> PathBuf {
    global
        .project_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The project folder, absolute.
fn canonical_root(global: &GlobalArgs) -> Result<PathBuf, Diagnostic> {
    let root = project_root(global);
    std::fs::canonicalize(&root).map_err(|e| {
        Diagnostic::error(
            Code::ProjectFile,
            format!("cannot open project folder {}: {e}", root.display()),
        )
        .with_help("pass an existing folder with --project-dir")
    })
}

pub fn load_project(global: &GlobalArgs) -> Result<Project, Diagnostics> {
    let root = canonical_root(global)?;
    Project::load_with(&root, project_config(global, &root)?)
}

/// The project file, with `--target-path` (or `$DBT_TARGET_PATH`) over its `target-path`.
pub fn project_config(global: &GlobalArgs, root: &Path) -> Result<ProjectConfig, Diagnostic> {
    let mut config = ProjectConfig::load(root)?;
    if let Some(path) = &global.target_path {
        config.target_path = path.clone();
    }
    Ok(config)
}

pub fn load_target_for(
    global: &GlobalArgs,
    root: &Path,
    config: &ProjectConfig,
) -> Result<Target, Diagnostic> {
    let dirs = profile_search_dirs(global.profiles_dir.as_deref(), root);
    let profile = global.profile.as_deref().unwrap_or(&config.profile);
    load_target(&dirs, profile, global.target.as_deref())
}

/// `--vars` as a JSON object.
pub fn parse_vars(
    text: Option<&str>,
) -> Result<serde_json::Map<String, serde_json::Value>, Diagnostic> {
    parse_mapping("--vars", text)
}

/// A flag's YAML or JSON mapping (`--vars`, `--args`) as a JSON object; none is empty.
pub fn parse_mapping(
    flag: &str,
    text: Option<&str>,
) -> Result<serde_json::Map<String, serde_json::Value>, Diagnostic> {
    let Some(text) = text else {
        return Ok(serde_json::Map::new());
    };
    let usage = |why: String| {
        Diagnostic::error(Code::Usage, format!("{flag} is not a YAML mapping: {why}"))
            .with_help(format!("write it as {flag} '{{key: value, other: 2}}'"))
    };
    let value: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| usage(e.to_string()))?;
    match serde_json::to_value(value).map_err(|e| usage(e.to_string()))? {
        serde_json::Value::Object(map) => Ok(map),
        serde_json::Value::Null => Ok(serde_json::Map::new()),
        other => Err(usage(format!("found {other}"))),
    }
}

/// Identifies this mart executable for the saved parse: its version, size and build time.
pub(crate) fn build_id() -> String {
    let exe = std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| {
            let built = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{}:{built}", m.len())
        })
        .unwrap_or_default();
    format!("{} {exe}", env!("CARGO_PKG_VERSION"))
}

impl Session {
    /// Loads the project, its target and its manifest. An unchanged project's manifest
    /// comes from the saved parse; otherwise the project is parsed and the parse saved.
    pub fn load(global: &GlobalArgs) -> Result<Session, Diagnostics> {
        let printer = Printer::new(global);
        let root = canonical_root(global)?;
        let config = project_config(global, &root)?;
        let target = load_target_for(global, &root, &config)?;
        let vars = parse_vars(global.vars.as_deref())?;
        let packages = package_configs(&root, &config)?;
        let invocation = mart_artifacts::Invocation::new(env!("CARGO_PKG_VERSION"));
        Printer::set_invocation_id(&invocation.invocation_id);
        let mut settings = Manifest::env_settings(&config, &packages, &target, &vars);
        settings.invocation_id = invocation.invocation_id.clone();
        settings.run_started_at = Some(invocation.started);
        let cache = parse_cache_path(&root, &config, &settings);
        let build = build_id();
        let saved = if global.no_partial_parse {
            None
        } else {
            load_saved_parse(&cache, &build, &settings, &root, &config)
        };
        let (env, manifest, macro_file_count, parse_id) = match saved {
            Some(saved) => {
                // The project's warnings and the parse's, saved with the manifest.
                for warning in &saved.manifest.warnings {
                    printer.diagnostic(warning);
                }
                let env = JinjaEnv::new(&settings, &saved.macro_files)?;
                let count = saved.macro_files.len();
                (env, saved.manifest, count, Some(saved.content_id))
            }
            None => {
                let project = Project::load_with(&root, config)?;
                for warning in &project.warnings {
                    printer.diagnostic(warning);
                }
                let macro_files = project.all_macro_files();
                let env = JinjaEnv::new(&settings, &macro_files)?;
                let manifest = Manifest::build(&project, &target, &env)?;
                // The manifest's warnings start with the project's, printed above.
                for warning in manifest.warnings.iter().skip(project.warnings.len()) {
                    printer.diagnostic(warning);
                }
                // Not saving only costs the next command a full parse.
                let parse_id = (!global.no_partial_parse)
                    .then(|| {
                        let stamp = InputStamp::scan(&root, &project.config);
                        save_parse(&cache, &build, &settings, stamp, &manifest, &macro_files)
                    })
                    .and_then(|saved| saved.ok().flatten());
                (env, manifest, macro_files.len(), parse_id)
            }
        };
        printer.stop_on_warnings()?;
        let manifest = Arc::new(manifest);
        // The manifest lives until the process exits: freeing a large project's nodes one
        // by one would cost a command about as much as reading them.
        std::mem::forget(Arc::clone(&manifest));
        let graph_of = Arc::clone(&manifest);
        env.set_graph(Box::new(move || mart_artifacts::graph_context(&graph_of)));
        Ok(Session {
            root,
            target,
            env: Arc::new(env),
            manifest,
            invocation,
            parse_id,
            static_analysis: global.static_analysis.map(Into::into),
            macro_file_count,
            printer,
        })
    }

    pub fn connection_config(&self) -> ConnectionConfig {
        connection_config(&self.target)
    }

    /// The selected node ids (all nodes when nothing is selected), after a warning for
    /// each criterion that matches nothing.
    pub fn select(
        &self,
        args: &SelectArgs,
    ) -> Result<std::collections::BTreeSet<NodeId>, Diagnostics> {
        self.select_with(args, None)
    }

    /// [`Session::select`]; with `indirect`, tests follow the nodes they test. A
    /// `--selector` (or, when nothing is selected, selectors.yml's `default: true` one)
    /// replaces `--select` / `--exclude`.
    pub fn select_with(
        &self,
        args: &SelectArgs,
        indirect: Option<mart_graph::IndirectSelection>,
    ) -> Result<std::collections::BTreeSet<NodeId>, Diagnostics> {
        crate::state::attach(self, args)?;
        let dag = &self.manifest.dag;
        let graph_error = |e: mart_graph::SelectorError| Diagnostics::from(e.to_diagnostic());
        if args.selector.is_some() || (args.select.is_empty() && args.exclude.is_empty()) {
            let selectors = crate::selectors::Selectors::load(&self.root)?;
            if let Some(expr) = selectors.expression(args.selector.as_deref())? {
                return mart_graph::select_expression(dag, &expr, indirect).map_err(graph_error);
            }
        }
        self.warn_unmatched(args)?;
        match indirect {
            Some(mode) => mart_graph::select_with_indirect(dag, &args.select, &args.exclude, mode),
            None => mart_graph::select(dag, &args.select, &args.exclude),
        }
        .map_err(graph_error)
    }

    /// A warning for each `--select`/`--exclude` criterion that matches no node (as dbt
    /// warns); with `--warn-error` the command stops here.
    pub fn warn_unmatched(&self, args: &SelectArgs) -> Result<(), Diagnostics> {
        let unmatched = mart_graph::unmatched(&self.manifest.dag, &args.select, &args.exclude)
            .map_err(|e| Diagnostics::from(e.to_diagnostic()))?;
        for u in unmatched {
            let flag = if u.excluded { "--exclude" } else { "--select" };
            let warning = Diagnostic::warning(
                Code::Selector,
                format!(
                    "the selection criterion '{}' ({flag}) does not match any enabled nodes",
                    u.criterion
                ),
            )
            .with_event("NoNodesForSelectionCriteria");
            self.printer.diagnostic(&match u.suggestion {
                Some(name) => warning.with_help(format!("did you mean '{name}'?")),
                None => warning.with_help("check the name with `mart ls`"),
            });
        }
        self.printer.stop_on_warnings()
    }

    /// "Found 8 models, 3 seeds, 58 data tests, 2 sources", as dbt opens a command.
    pub fn found_line(&self) -> String {
        // Counted on the graph: reading every node for this line would cost a one-node
        // command most of its start-up.
        let count = |t: mart_graph::ResourceType| {
            self.manifest
                .dag
                .nodes()
                .filter(|n| n.resource_type == t)
                .count()
        };
        let models = count(mart_graph::ResourceType::Model);
        let seeds = count(mart_graph::ResourceType::Seed);
        let tests = count(mart_graph::ResourceType::Test);
        let snapshots = match count(mart_graph::ResourceType::Snapshot) {
            0 => String::new(),
            n => format!("{n} snapshot{}, ", plural(n)),
        };
        let unit_tests = match count(mart_graph::ResourceType::UnitTest) {
            0 => String::new(),
            n => format!("{n} unit test{}, ", plural(n)),
        };
        // After the sources, in dbt's order: exposures and metrics, the macros, then
        // semantic models and saved queries; each only when there are some.
        let some = |t: mart_graph::ResourceType, word: &str| match count(t) {
            0 => String::new(),
            n => format!(", {n} {word}{}", plural(n)),
        };
        format!(
            "Found {models} model{}, {seeds} seed{}, {snapshots}{tests} data test{}, {unit_tests}{} source{}{}{}, {} macro file{}{}{}",
            plural(models),
            plural(seeds),
            plural(tests),
            self.manifest.sources.len(),
            plural(self.manifest.sources.len()),
            some(mart_graph::ResourceType::Exposure, "exposure"),
            some(mart_graph::ResourceType::Metric, "metric"),
            self.macro_file_count,
            plural(self.macro_file_count),
            some(mart_graph::ResourceType::SemanticModel, "semantic model"),
            match count(mart_graph::ResourceType::SavedQuery) {
                0 => String::new(),
                1 => ", 1 saved query".to_string(),
                n => format!(", {n} saved queries"),
            },
        )
    }
}

/// The project files of the installed packages.
fn package_configs(root: &Path, config: &ProjectConfig) -> Result<Vec<ProjectConfig>, Diagnostics> {
    let mut errors = Diagnostics::default();
    let mut packages = Vec::new();
    for dir in config.package_dirs(root) {
        match ProjectConfig::load_package(root, &dir) {
            Ok(package) => packages.push(package),
            Err(e) => errors.push(e),
        }
    }
    errors.into_result().map(|_| packages)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

pub fn connection_config(target: &Target) -> ConnectionConfig {
    ConnectionConfig {
        host: target.host.clone(),
        port: target.port,
        user: target.user.clone(),
        password: (!target.password.is_empty()).then(|| target.password.expose().to_string()),
        dbname: target.dbname.clone(),
        connect_timeout: Some(Duration::from_secs(target.connect_timeout.unwrap_or(10))),
        application_name: "mart".to_string(),
        sslmode: target.sslmode.clone(),
    }
}

//! Loading what every command needs: project, profile target, vars, manifest.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mart_compiler::Manifest;
use mart_diagnostics::{Code, Diagnostic, Diagnostics};
use mart_graph::NodeId;
use mart_jinja::JinjaEnv;
use mart_postgres::ConnectionConfig;
use mart_project::{load_target, profile_search_dirs, Project, Target};

use crate::args::{GlobalArgs, SelectArgs};
use crate::printer::Printer;

/// A loaded project, ready for a command.
pub struct Session {
    pub project: Project,
    pub target: Target,
    pub env: Arc<JinjaEnv>,
    pub manifest: Arc<Manifest>,
    pub printer: Printer,
}

pub fn project_root(global: &GlobalArgs) -> PathBuf {
    global
        .project_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("."))
}

pub fn load_project(global: &GlobalArgs) -> Result<Project, Diagnostics> {
    let root = project_root(global);
    let root = std::fs::canonicalize(&root).map_err(|e| {
        Diagnostic::error(
            Code::ProjectFile,
            format!("cannot open project folder {}: {e}", root.display()),
        )
        .with_help("pass an existing folder with --project-dir")
    })?;
    Project::load(&root)
}

pub fn load_target_for(global: &GlobalArgs, project: &Project) -> Result<Target, Diagnostic> {
    let dirs = profile_search_dirs(global.profiles_dir.as_deref(), &project.root);
    let profile = global.profile.as_deref().unwrap_or(&project.config.profile);
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

impl Session {
    pub fn load(global: &GlobalArgs) -> Result<Session, Diagnostics> {
        let printer = Printer::new(global);
        let project = load_project(global)?;
        for warning in &project.warnings {
            printer.diagnostic(warning);
        }
        let target = load_target_for(global, &project)?;
        let vars = parse_vars(global.vars.as_deref())?;
        let settings = Manifest::env_settings(&project, &target, &vars);
        let env = JinjaEnv::new(&settings, &project.macro_files)?;
        let manifest = Manifest::build(&project, &target, &env)?;
        Ok(Session {
            project,
            target,
            env: Arc::new(env),
            manifest: Arc::new(manifest),
            printer,
        })
    }

    pub fn connection_config(&self) -> ConnectionConfig {
        connection_config(&self.target)
    }

    /// The selected node ids (all nodes when nothing is selected).
    pub fn select(
        &self,
        args: &SelectArgs,
    ) -> Result<std::collections::BTreeSet<NodeId>, Diagnostic> {
        mart_graph::select(&self.manifest.dag, &args.select, &args.exclude)
            .map_err(|e| e.to_diagnostic())
    }

    /// "Found 8 models, 3 seeds, 58 data tests, 2 sources", as dbt opens a command.
    pub fn found_line(&self) -> String {
        let count = |t: mart_graph::ResourceType| {
            self.manifest
                .nodes
                .values()
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
        format!(
            "Found {models} model{}, {seeds} seed{}, {snapshots}{tests} data test{}, {} source{}, {} macro file{}",
            plural(models),
            plural(seeds),
            plural(tests),
            self.manifest.sources.len(),
            plural(self.manifest.sources.len()),
            self.project.macro_files.len(),
            plural(self.project.macro_files.len()),
        )
    }
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

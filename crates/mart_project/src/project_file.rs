//! project.yml / dbt_project.yml.

use std::path::Path;
use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic, SourceFile};
use serde::Deserialize;

use crate::config::{normalize_key, ConfigMap};
use crate::yaml;

/// The names mart looks for, in order: its own, then dbt's (accepted unchanged).
pub const PROJECT_FILE_NAMES: [&str; 2] = ["project.yml", "dbt_project.yml"];

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawProjectFile {
    name: Option<String>,
    #[serde(default)]
    version: Option<serde_yaml::Value>,
    profile: Option<String>,
    model_paths: Option<Vec<String>>,
    seed_paths: Option<Vec<String>>,
    macro_paths: Option<Vec<String>>,
    snapshot_paths: Option<Vec<String>>,
    test_paths: Option<Vec<String>>,
    analysis_paths: Option<Vec<String>>,
    target_path: Option<String>,
    clean_targets: Option<Vec<String>>,
    packages_install_path: Option<String>,
    #[serde(default)]
    vars: serde_yaml::Mapping,
    #[serde(default)]
    on_run_start: Option<serde_yaml::Value>,
    #[serde(default)]
    on_run_end: Option<serde_yaml::Value>,
    #[serde(default)]
    models: Option<serde_yaml::Value>,
    #[serde(default)]
    seeds: Option<serde_yaml::Value>,
    #[serde(default)]
    snapshots: Option<serde_yaml::Value>,
    #[serde(default, alias = "data_tests")]
    tests: Option<serde_yaml::Value>,
}

/// The parsed project file with dbt's defaults filled in.
#[derive(Clone, Debug)]
pub struct ProjectConfig {
    pub file: Arc<SourceFile>,
    pub name: String,
    pub version: Option<String>,
    pub profile: String,
    pub model_paths: Vec<String>,
    pub seed_paths: Vec<String>,
    pub macro_paths: Vec<String>,
    pub snapshot_paths: Vec<String>,
    pub test_paths: Vec<String>,
    pub analysis_paths: Vec<String>,
    pub target_path: String,
    pub clean_targets: Vec<String>,
    pub packages_install_path: String,
    /// Project-level vars: global ones and the ones scoped under this project's name.
    pub vars: serde_json::Map<String, serde_json::Value>,
    pub on_run_start: Vec<String>,
    pub on_run_end: Vec<String>,
    pub models: ConfigTree,
    pub seeds: ConfigTree,
    pub snapshots: ConfigTree,
    pub tests: ConfigTree,
}

impl ProjectConfig {
    /// Finds and parses the project file in `root`.
    pub fn load(root: &Path) -> Result<Self, Diagnostic> {
        let Some((name, text)) = PROJECT_FILE_NAMES
            .iter()
            .find_map(|n| std::fs::read_to_string(root.join(n)).ok().map(|t| (*n, t)))
        else {
            return Err(Diagnostic::error(
                Code::ProjectFile,
                format!("no project.yml or dbt_project.yml in {}", root.display()),
            )
            .with_help("run mart from the project's folder or pass --project-dir DIR"));
        };
        let file = Arc::new(SourceFile::new(name, text));
        Self::parse(file)
    }

    pub fn parse(file: Arc<SourceFile>) -> Result<Self, Diagnostic> {
        let raw: RawProjectFile = yaml::parse(&file, Code::ProjectFile)?;
        let missing = |key: &str| {
            Diagnostic::error(
                Code::ProjectFile,
                format!("the project file has no '{key}'"),
            )
            .with_path(&file.path)
            .with_help(format!(
                "add `{key}: ...` at the top level of {}",
                file.path.display()
            ))
        };
        let name = raw.name.clone().ok_or_else(|| missing("name"))?;
        let profile = raw.profile.clone().unwrap_or_else(|| name.clone());
        let target_path = raw.target_path.unwrap_or_else(|| "target".into());
        let vars = project_vars(&name, raw.vars);
        let tree = |v: Option<serde_yaml::Value>| ConfigTree::new(v.map(yaml::to_json));
        Ok(Self {
            version: raw.version.map(|v| match v {
                serde_yaml::Value::String(s) => s,
                other => yaml::key_string(other),
            }),
            profile,
            model_paths: raw.model_paths.unwrap_or_else(|| vec!["models".into()]),
            seed_paths: raw.seed_paths.unwrap_or_else(|| vec!["seeds".into()]),
            macro_paths: raw.macro_paths.unwrap_or_else(|| vec!["macros".into()]),
            snapshot_paths: raw
                .snapshot_paths
                .unwrap_or_else(|| vec!["snapshots".into()]),
            test_paths: raw.test_paths.unwrap_or_else(|| vec!["tests".into()]),
            analysis_paths: raw.analysis_paths.unwrap_or_default(),
            clean_targets: raw
                .clean_targets
                .unwrap_or_else(|| vec![target_path.clone()]),
            packages_install_path: raw
                .packages_install_path
                .unwrap_or_else(|| "dbt_packages".into()),
            target_path,
            vars,
            on_run_start: hook_list(raw.on_run_start),
            on_run_end: hook_list(raw.on_run_end),
            models: tree(raw.models),
            seeds: tree(raw.seeds),
            snapshots: tree(raw.snapshots),
            tests: tree(raw.tests),
            name,
            file,
        })
    }
}

/// dbt allows vars at the top level and scoped by project name; both apply here.
fn project_vars(
    project: &str,
    vars: serde_yaml::Mapping,
) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    let mut scoped = None;
    for (k, v) in vars {
        let key = yaml::key_string(k);
        if key == project && v.is_mapping() {
            scoped = Some(v);
        } else {
            out.insert(key, yaml::to_json(v));
        }
    }
    if let Some(serde_json::Value::Object(map)) = scoped.map(yaml::to_json) {
        out.extend(map);
    }
    out
}

fn hook_list(value: Option<serde_yaml::Value>) -> Vec<String> {
    match value.map(yaml::to_json) {
        Some(serde_json::Value::String(s)) => vec![s],
        Some(serde_json::Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// The hierarchical `models:` / `seeds:` section: `+key: value` configs per folder.
#[derive(Clone, Debug, Default)]
pub struct ConfigTree {
    root: Option<serde_json::Value>,
}

/// Config keys that may be written without `+` and hold mappings, so they are not
/// mistaken for folders.
const MAPPING_CONFIG_KEYS: [&str; 6] = [
    "meta",
    "grants",
    "column_types",
    "persist_docs",
    "docs",
    "contract",
];

impl ConfigTree {
    fn new(root: Option<serde_json::Value>) -> Self {
        Self { root }
    }

    /// The config layers that apply to a node with this fqn (first element the package),
    /// shallowest first.
    pub fn layers_for(&self, fqn: &[String]) -> Vec<ConfigMap> {
        let mut layers = Vec::new();
        let Some(mut level) = self.root.as_ref() else {
            return layers;
        };
        layers.push(configs_at(level));
        for part in fqn {
            match level.get(part) {
                Some(next) if next.is_object() => {
                    level = next;
                    layers.push(configs_at(level));
                }
                _ => break,
            }
        }
        layers
    }
}

/// The configs set directly at one level of the tree (not in its sub-folders).
fn configs_at(level: &serde_json::Value) -> ConfigMap {
    let Some(map) = level.as_object() else {
        return ConfigMap::new();
    };
    map.iter()
        .filter(|(k, v)| {
            k.starts_with('+') || !v.is_object() || MAPPING_CONFIG_KEYS.contains(&k.as_str())
        })
        .map(|(k, v)| (normalize_key(k), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(text: &str) -> ProjectConfig {
        ProjectConfig::parse(Arc::new(SourceFile::new("project.yml", text))).unwrap()
    }

    #[test]
    fn folder_configs_apply_by_fqn() {
        let project = parse(
            "name: learn\nprofile: p\nmodels:\n  +tags: all\n  learn:\n    +materialized: view\n    dim:\n      +materialized: table\n      meta: {owner: a}\n",
        );
        let fqn: Vec<String> = ["learn", "dim", "dim_user"].map(String::from).into();
        let layers = project.models.layers_for(&fqn);
        assert_eq!(layers.len(), 3);
        assert_eq!(layers[1]["materialized"], json!("view"));
        assert_eq!(layers[2]["materialized"], json!("table"));
        assert_eq!(layers[2]["meta"], json!({"owner": "a"}));
        assert_eq!(layers[0]["tags"], json!("all"));
    }

    #[test]
    fn defaults_and_scoped_vars() {
        let project = parse("name: learn\nvars:\n  a: 1\n  learn:\n    b: two\n");
        assert_eq!(project.profile, "learn");
        assert_eq!(project.model_paths, vec!["models"]);
        assert_eq!(project.clean_targets, vec!["target"]);
        assert_eq!(project.vars["a"], json!(1));
        assert_eq!(project.vars["b"], json!("two"));
    }

    #[test]
    fn missing_name_is_an_error() {
        let err = ProjectConfig::parse(Arc::new(SourceFile::new("project.yml", "profile: x\n")))
            .unwrap_err();
        assert_eq!(err.message, "the project file has no 'name'");
    }
}

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
    /// dbt before 1.0: `model-paths`.
    source_paths: Option<Vec<String>>,
    seed_paths: Option<Vec<String>>,
    /// dbt before 1.0: `seed-paths`.
    data_paths: Option<Vec<String>>,
    macro_paths: Option<Vec<String>>,
    snapshot_paths: Option<Vec<String>>,
    test_paths: Option<Vec<String>>,
    analysis_paths: Option<Vec<String>>,
    docs_paths: Option<Vec<String>>,
    target_path: Option<String>,
    clean_targets: Option<Vec<String>>,
    packages_install_path: Option<String>,
    #[serde(default)]
    restrict_access: bool,
    #[serde(default)]
    dispatch: Vec<RawDispatch>,
    #[serde(default)]
    flags: serde_yaml::Mapping,
    require_dbt_version: Option<serde_yaml::Value>,
    #[serde(default)]
    quoting: std::collections::BTreeMap<String, serde_yaml::Value>,
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

/// One `dispatch:` entry: where `adapter.dispatch(..., macro_namespace)` looks.
#[derive(Clone, Debug, Deserialize)]
struct RawDispatch {
    macro_namespace: String,
    search_order: Vec<String>,
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
    /// Where `.md` files with docs blocks are read: by default every resource path, as
    /// in dbt 1.9+.
    pub docs_paths: Vec<String>,
    pub target_path: String,
    pub clean_targets: Vec<String>,
    /// Where `mart deps` installs packages, and where they are loaded from.
    pub packages_install_path: String,
    /// `restrict-access:`: other packages may not ref this project's protected models,
    /// nor its private models from a group of the same name.
    pub restrict_access: bool,
    /// `dispatch:`: macro namespace -> the packages `adapter.dispatch` searches, in order.
    pub dispatch: std::collections::BTreeMap<String, Vec<String>>,
    /// `flags: {require_explicit_package_overrides_for_builtin_materializations: false}`:
    /// installed packages may replace built-in materializations (dbt's legacy behaviour).
    pub package_materialization_overrides: bool,
    /// Project-level vars: global ones and the ones scoped under this project's name.
    pub vars: serde_json::Map<String, serde_json::Value>,
    /// Vars as written: global ones and the mappings scoped by a project or package name.
    pub raw_vars: serde_json::Map<String, serde_json::Value>,
    /// Findings that do not stop the load: deprecated and unknown keys.
    pub warnings: Vec<Diagnostic>,
    /// `quoting:`: which parts of relation names are quoted.
    pub quoting: Quoting,
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

    /// An installed package's project file in `root/dir`. Its resource paths are made
    /// relative to `root`, so its files load, and errors name them, like the root's.
    pub fn load_package(root: &Path, dir: &Path) -> Result<Self, Diagnostic> {
        let Some((name, text)) = PROJECT_FILE_NAMES.iter().find_map(|n| {
            std::fs::read_to_string(root.join(dir).join(n))
                .ok()
                .map(|t| (*n, t))
        }) else {
            return Err(Diagnostic::error(
                Code::ProjectFile,
                format!("package folder {} has no dbt_project.yml", dir.display()),
            )
            .with_path(dir)
            .with_help("run `mart deps` to reinstall the project's packages"));
        };
        let mut config = Self::parse(Arc::new(SourceFile::new(dir.join(name), text)))?;
        for paths in [
            &mut config.model_paths,
            &mut config.seed_paths,
            &mut config.macro_paths,
            &mut config.snapshot_paths,
            &mut config.test_paths,
            &mut config.analysis_paths,
            &mut config.docs_paths,
        ] {
            for path in paths.iter_mut() {
                *path = dir.join(&*path).to_string_lossy().into_owned();
            }
        }
        Ok(config)
    }

    /// The folders of the packages installed under `packages-install-path`, relative to
    /// `root`, sorted.
    pub fn package_dirs(&self, root: &Path) -> Vec<std::path::PathBuf> {
        let install = Path::new(&self.packages_install_path);
        let Ok(entries) = std::fs::read_dir(root.join(install)) else {
            return Vec::new();
        };
        let mut dirs: Vec<std::path::PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| root.join(install).join(e.file_name()).is_dir())
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| install.join(e.file_name()))
            .collect();
        dirs.sort();
        dirs
    }

    pub fn parse(file: Arc<SourceFile>) -> Result<Self, Diagnostic> {
        let raw: RawProjectFile = yaml::parse(&file, Code::ProjectFile)?;
        let mut warnings = unknown_key_warnings(&file)?;
        check_dbt_version(&file, raw.require_dbt_version.as_ref())?;
        let quoting = quoting(&file, &raw.quoting)?;
        let renamed = |old: &str, new: &str, event: &str| {
            Diagnostic::warning(
                Code::ProjectFile,
                format!("'{old}' is deprecated since dbt 1.0; it is read as '{new}'"),
            )
            .with_span(yaml::key_span(&file, old))
            .with_help(format!("rename the key to '{new}'"))
            .with_event(event)
        };
        if raw.model_paths.is_none() && raw.source_paths.is_some() {
            warnings.push(renamed(
                "source-paths",
                "model-paths",
                "ConfigSourcePathDeprecation",
            ));
        }
        if raw.seed_paths.is_none() && raw.data_paths.is_some() {
            warnings.push(renamed(
                "data-paths",
                "seed-paths",
                "ConfigDataPathDeprecation",
            ));
        }
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
        let raw_vars: serde_json::Map<String, serde_json::Value> = raw
            .vars
            .iter()
            .map(|(k, v)| (yaml::key_string(k.clone()), yaml::to_json(v.clone())))
            .collect();
        let vars = project_vars(&name, raw.vars);
        let tree = |v: Option<serde_yaml::Value>| ConfigTree::new(v.map(yaml::to_json));
        let (models, seeds, snapshots, tests) = (
            tree(raw.models),
            tree(raw.seeds),
            tree(raw.snapshots),
            tree(raw.tests),
        );
        for t in [&models, &seeds, &snapshots, &tests] {
            if let Some(root) = &t.root {
                unknown_configs_in_tree(&file, root, &mut warnings);
            }
        }
        let docs_paths = raw.docs_paths;
        let mut config = Self {
            version: raw.version.map(|v| match v {
                serde_yaml::Value::String(s) => s,
                other => yaml::key_string(other),
            }),
            profile,
            model_paths: raw
                .model_paths
                .or(raw.source_paths)
                .unwrap_or_else(|| vec!["models".into()]),
            seed_paths: raw
                .seed_paths
                .or(raw.data_paths)
                .unwrap_or_else(|| vec!["seeds".into()]),
            macro_paths: raw.macro_paths.unwrap_or_else(|| vec!["macros".into()]),
            snapshot_paths: raw
                .snapshot_paths
                .unwrap_or_else(|| vec!["snapshots".into()]),
            test_paths: raw.test_paths.unwrap_or_else(|| vec!["tests".into()]),
            analysis_paths: raw.analysis_paths.unwrap_or_default(),
            docs_paths: Vec::new(),
            clean_targets: raw
                .clean_targets
                .unwrap_or_else(|| vec![target_path.clone()]),
            target_path,
            packages_install_path: raw
                .packages_install_path
                .unwrap_or_else(|| "dbt_packages".into()),
            restrict_access: raw.restrict_access,
            dispatch: raw
                .dispatch
                .into_iter()
                .map(|d| (d.macro_namespace, d.search_order))
                .collect(),
            package_materialization_overrides: raw
                .flags
                .get("require_explicit_package_overrides_for_builtin_materializations")
                .and_then(serde_yaml::Value::as_bool)
                == Some(false),
            vars,
            raw_vars,
            warnings,
            quoting,
            on_run_start: hook_list(raw.on_run_start),
            on_run_end: hook_list(raw.on_run_end),
            models,
            seeds,
            snapshots,
            tests,
            name,
            file,
        };
        config.docs_paths = docs_paths.unwrap_or_else(|| config.resource_paths());
        Ok(config)
    }

    /// The model, seed, analysis, test, macro and snapshot paths, each once.
    fn resource_paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = Vec::new();
        for path in self
            .model_paths
            .iter()
            .chain(&self.seed_paths)
            .chain(&self.analysis_paths)
            .chain(&self.test_paths)
            .chain(&self.macro_paths)
            .chain(&self.snapshot_paths)
        {
            if !paths.contains(path) {
                paths.push(path.clone());
            }
        }
        paths
    }
}

/// The top-level keys of dbt_project.yml that dbt 1.10 knows.
const PROJECT_KEYS: [&str; 38] = [
    "name",
    "version",
    "config-version",
    "profile",
    "model-paths",
    "source-paths",
    "seed-paths",
    "data-paths",
    "macro-paths",
    "snapshot-paths",
    "test-paths",
    "analysis-paths",
    "docs-paths",
    "asset-paths",
    "function-paths",
    "target-path",
    "log-path",
    "packages-install-path",
    "clean-targets",
    "dispatch",
    "require-dbt-version",
    "quoting",
    "query-comment",
    "restrict-access",
    "flags",
    "vars",
    "on-run-start",
    "on-run-end",
    "models",
    "seeds",
    "snapshots",
    "tests",
    "data_tests",
    "sources",
    "exposures",
    "metrics",
    "semantic-models",
    "saved-queries",
];

/// A warning, with "did you mean", for each top-level key dbt does not know.
fn unknown_key_warnings(file: &Arc<SourceFile>) -> Result<Vec<Diagnostic>, Diagnostic> {
    let map: serde_yaml::Mapping = yaml::parse(file, Code::ProjectFile)?;
    // Ignoring them could run unit tests the project disables.
    if map.contains_key("unit_tests") {
        return Err(Diagnostic::error(
            Code::ProjectFile,
            "project-level unit test configs (`unit_tests:`) are not supported by mart yet",
        )
        .with_span(yaml::key_span(file, "unit_tests"))
        .with_help(
            "set `config:` (tags, enabled, meta) on each unit test in its property file instead",
        ));
    }
    Ok(map
        .keys()
        .filter_map(|k| k.as_str())
        .filter(|k| !PROJECT_KEYS.contains(k))
        .map(|key| {
            let d = Diagnostic::warning(
                Code::ProjectFile,
                format!("unknown key '{key}' in the project file; it is ignored"),
            )
            .with_span(yaml::key_span(file, key))
            .with_event("GenericJSONSchemaValidationDeprecation");
            match mart_diagnostics::closest_name(key, PROJECT_KEYS) {
                Some(close) => d.with_help(format!("did you mean '{close}'?")),
                None => d.with_help("remove it, or check dbt's list of dbt_project.yml keys"),
            }
        })
        .collect())
}

/// `require-dbt-version: ">=1.3.0"` or a list of such ranges, checked against
/// [`crate::DBT_VERSION`].
fn check_dbt_version(
    file: &Arc<SourceFile>,
    required: Option<&serde_yaml::Value>,
) -> Result<(), Diagnostic> {
    let ranges: Vec<String> = match required {
        None => return Ok(()),
        Some(serde_yaml::Value::String(s)) => vec![s.clone()],
        Some(serde_yaml::Value::Sequence(items)) => {
            items.iter().map(|v| yaml::key_string(v.clone())).collect()
        }
        Some(other) => vec![yaml::key_string(other.clone())],
    };
    let at = || yaml::key_span(file, "require-dbt-version");
    match crate::dbt_allows(ranges.iter().map(String::as_str)) {
        Ok(true) => Ok(()),
        Ok(false) => Err(Diagnostic::error(
            Code::ProjectFile,
            format!(
                "this project requires dbt {}; mart behaves as dbt {}",
                ranges.join(", "),
                crate::DBT_VERSION
            ),
        )
        .with_span(at())
        .with_help("use a version of the project or package made for this dbt version")),
        Err(why) => Err(Diagnostic::error(
            Code::ProjectFile,
            format!("require-dbt-version: {why}"),
        )
        .with_span(at())
        .with_help("write ranges such as \">=1.3.0\" or [\">=1.3.0\", \"<2.0.0\"]")),
    }
}

/// `quoting:` of the project file: whether the database, schema and identifier of the
/// nodes' relations are quoted (dbt-postgres quotes all three by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quoting {
    pub database: bool,
    pub schema: bool,
    pub identifier: bool,
}

impl Default for Quoting {
    fn default() -> Self {
        Self {
            database: true,
            schema: true,
            identifier: true,
        }
    }
}

fn quoting(
    file: &Arc<SourceFile>,
    raw: &std::collections::BTreeMap<String, serde_yaml::Value>,
) -> Result<Quoting, Diagnostic> {
    let mut quoting = Quoting::default();
    for (key, value) in raw {
        let Some(quoted) = value.as_bool() else {
            return Err(Diagnostic::error(
                Code::ProjectFile,
                format!("quoting: {key} must be true or false"),
            )
            .with_span(yaml::key_span(file, key))
            .with_help("write `quoting: {identifier: false}`"));
        };
        match key.as_str() {
            "database" => quoting.database = quoted,
            "schema" => quoting.schema = quoted,
            "identifier" => quoting.identifier = quoted,
            _ => {
                return Err(Diagnostic::error(
                    Code::ProjectFile,
                    format!("quoting: unknown key '{key}'"),
                )
                .with_span(yaml::key_span(file, key))
                .with_help("quoting takes database, schema and identifier"))
            }
        }
    }
    Ok(quoting)
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

/// A warning for each config key of a `models:`/`seeds:`/... tree that dbt does not know:
/// `+key`s, and plain keys holding a value rather than a folder.
fn unknown_configs_in_tree(
    file: &Arc<SourceFile>,
    level: &serde_json::Value,
    warnings: &mut Vec<Diagnostic>,
) {
    let Some(map) = level.as_object() else {
        return;
    };
    for (key, value) in map {
        let is_config = key.starts_with('+')
            || !value.is_object()
            || MAPPING_CONFIG_KEYS.contains(&key.as_str());
        if !is_config {
            unknown_configs_in_tree(file, value, warnings);
        } else if !crate::config::is_known_config(key) {
            warnings.push(crate::config::unknown_config_warning(
                key,
                yaml::key_span(file, key),
            ));
        }
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
    fn project_level_unit_test_configs_are_refused() {
        let err = ProjectConfig::parse(Arc::new(SourceFile::new(
            "dbt_project.yml",
            "name: learn\nunit_tests:\n  learn:\n    +enabled: false\n",
        )))
        .unwrap_err();
        assert_eq!(
            err.message,
            "project-level unit test configs (`unit_tests:`) are not supported by mart yet"
        );
        assert_eq!(err.span.unwrap().line_col(), (2, 1));
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
    fn dbt_project_keys_as_dbt_reads_them() {
        let project = parse(
            "name: learn\nsource-paths: [src]\ndata-paths: [data]\nmodle-paths: [x]\nrequire-dbt-version: [\">=1.3.0\", \"<3.0.0\"]\ndispatch:\n  - macro_namespace: dbt_utils\n    search_order: [learn, dbt_utils]\nmodels:\n  learn:\n    +materialised: table\n    staging:\n      +tags: [a]\n",
        );
        assert_eq!(project.model_paths, vec!["src"]);
        assert_eq!(project.seed_paths, vec!["data"]);
        assert_eq!(project.dispatch["dbt_utils"], vec!["learn", "dbt_utils"]);
        let warnings: Vec<(String, (usize, usize), Option<String>)> = project
            .warnings
            .iter()
            .map(|w| {
                (
                    w.message.clone(),
                    w.span.as_ref().map(|s| s.line_col()).unwrap_or_default(),
                    w.help.clone(),
                )
            })
            .collect();
        assert_eq!(
            warnings,
            [
                (
                    "unknown key 'modle-paths' in the project file; it is ignored".to_string(),
                    (4, 1),
                    Some("did you mean 'model-paths'?".to_string())
                ),
                (
                    "'source-paths' is deprecated since dbt 1.0; it is read as 'model-paths'".into(),
                    (2, 1),
                    Some("rename the key to 'model-paths'".into())
                ),
                (
                    "'data-paths' is deprecated since dbt 1.0; it is read as 'seed-paths'".into(),
                    (3, 1),
                    Some("rename the key to 'seed-paths'".into())
                ),
                (
                    "unknown config '+materialised'; it is kept in the node's config but does nothing".into(),
                    (11, 5),
                    Some("did you mean 'materialized'?".into())
                ),
            ]
        );
    }

    #[test]
    fn require_dbt_version_outside_mart_s_is_an_error() {
        let err = ProjectConfig::parse(Arc::new(SourceFile::new(
            "dbt_project.yml",
            "name: p\nrequire-dbt-version: \">=2.0.0\"\n",
        )))
        .unwrap_err();
        assert_eq!(
            err.message,
            "this project requires dbt >=2.0.0; mart behaves as dbt 1.10.0"
        );
        assert_eq!(err.span.unwrap().line_col(), (2, 1));
        let quoting = parse("name: p\nquoting:\n  identifier: false\n").quoting;
        assert!(!quoting.identifier && quoting.schema && quoting.database);
        let err = ProjectConfig::parse(Arc::new(SourceFile::new(
            "dbt_project.yml",
            "name: p\nquoting:\n  identifer: false\n",
        )))
        .unwrap_err();
        assert_eq!(err.message, "quoting: unknown key 'identifer'");
        assert_eq!(err.span.unwrap().line_col(), (3, 3));
    }

    #[test]
    fn missing_name_is_an_error() {
        let err = ProjectConfig::parse(Arc::new(SourceFile::new("project.yml", "profile: x\n")))
            .unwrap_err();
        assert_eq!(err.message, "the project file has no 'name'");
    }
}

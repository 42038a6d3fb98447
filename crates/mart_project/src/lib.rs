//! Reads a mart project (or an unchanged dbt project) from disk.
//!
//! It finds and parses project.yml / dbt_project.yml, profiles.yml and the property
//! files, walks the model, seed, macro, snapshot and test paths, and merges configs in
//! dbt's precedence. It does not render Jinja (beyond `env_var` in profiles), touch the
//! database or build the graph.

mod config;
mod contract;
pub mod dbt_version;
mod docs_blocks;
mod docs_config;
mod env;
mod exposures;
mod freshness;
mod groups;
mod profile;
mod project_file;
mod properties;
mod property_keys;
pub mod secrets;
mod semantic;
mod snapshot_file;
mod stamp;
mod stamp_key;
mod unit_tests;
mod versions;
mod walk;
mod yaml;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic, Diagnostics, SourceFile};

use crate::walk::walk;

pub use config::{
    check_materialized, is_known_config, merge_into, normalize_key, unknown_config_warning,
    ConfigError, ConfigMap, Hook, IndexConfig, Materialization, NodeConfig, PersistDocs,
    StaticAnalysis, UnknownMaterialization, MODEL_MATERIALIZATIONS, SNAPSHOT_MATERIALIZATIONS,
};
pub use contract::{
    constraint_targets, parse_constraint_target, Constraint, ConstraintTarget, ConstraintType,
    Contract,
};
pub use dbt_version::{dbt_allows, DBT_VERSION};
pub use docs_blocks::{DocBlock, DEFAULT_OVERVIEW};
pub use docs_config::{is_node_color, DocsConfig};
pub use env::{add_type_filters, env_var};
pub use exposures::{Exposure, ExposureDependency, ExposureOwner};
pub use freshness::{FreshnessRule, FreshnessStatus, Period, Threshold};
pub use groups::Group;
pub use profile::{load_target, parse_target, profile_search_dirs, Secret, Target};
pub use project_file::{ConfigTree, ProjectConfig, Quoting, PROJECT_FILE_NAMES};
pub use properties::{
    ColumnProperties, MacroProperties, NodeProperties, PropertyFile, SourceTable,
};
pub use semantic::{
    is_day_or_finer, list_start as semantic_list_start, Export, Metric, SavedQuery, SemanticLayer,
    SemanticModel, TimeSpine,
};
pub use stamp::InputStamp;
pub use unit_tests::{
    Fixture, FixtureFormat, FixtureRows, FixtureTable, GivenInput, UnitTestOverrides,
    UnitTestProperties,
};
pub use versions::{compare_versions, ModelVersion};
pub use yaml::{entry_span, entry_span_after, key_span, setting_span, setting_span_after};

/// A file that defines one node (a model, a snapshot, a singular test...).
#[derive(Clone, Debug)]
pub struct NodeFile {
    /// The node name: the file stem.
    pub name: String,
    /// The file, its path relative to the project root.
    pub file: Arc<SourceFile>,
    /// [project, folders..., name], as dbt builds it (relative to the resource path);
    /// a versioned model's ends with the model's name and `v<version>`.
    pub fqn: Vec<String>,
    /// Set for a version of a versioned model (whose `name` is then the model's, not
    /// the file's).
    pub version: Option<Arc<ModelVersion>>,
}

impl NodeFile {
    /// The file's stem: the node's name, or a versioned model's `<name>_v<v>`.
    pub fn file_stem(&self) -> &str {
        self.file
            .path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(&self.name)
    }
}

/// A macro file and the package whose namespace its macros join.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct MacroFile {
    pub package: String,
    #[serde(with = "mart_diagnostics::shared_files")]
    pub file: Arc<SourceFile>,
}

/// A CSV seed; its rows are read when it is loaded, not when the project is.
#[derive(Clone, Debug)]
pub struct SeedFile {
    pub name: String,
    /// Relative to the project root.
    pub path: PathBuf,
    pub fqn: Vec<String>,
}

/// Everything on disk that makes a project, before rendering.
#[derive(Clone, Debug)]
pub struct Project {
    pub root: PathBuf,
    pub config: ProjectConfig,
    pub models: Vec<NodeFile>,
    pub seeds: Vec<SeedFile>,
    /// Singular data tests: the `.sql` files of the test paths that define no generic test.
    pub singular_tests: Vec<NodeFile>,
    /// Analyses: the `.sql` files of the analysis paths, compiled and never run.
    pub analyses: Vec<NodeFile>,
    /// Snapshots: the blocks of `.sql` files under the snapshot paths, then the YAML-defined
    /// ones (property entries with `relation:`).
    pub snapshots: Vec<NodeFile>,
    pub macro_files: Vec<MacroFile>,
    /// The installed packages (`packages-install-path`), each loaded as a project of its
    /// own by the same code; empty for a package itself.
    pub packages: Vec<Project>,
    /// Property entries by node name (models, seeds and snapshots share one namespace).
    pub model_properties: BTreeMap<String, NodeProperties>,
    pub seed_properties: BTreeMap<String, NodeProperties>,
    /// Properties of snapshots (block-defined or YAML-defined).
    pub snapshot_properties: BTreeMap<String, NodeProperties>,
    pub sources: Vec<SourceTable>,
    /// `unit_tests:` entries of the property files, in file order.
    pub unit_tests: Vec<UnitTestProperties>,
    /// The enabled exposures of the property files.
    pub exposures: Vec<Exposure>,
    /// The semantic models, metrics, saved queries and time spines of the property files.
    pub semantic: SemanticLayer,
    /// The docs blocks of the `.md` files under the docs paths.
    pub docs: Vec<DocBlock>,
    /// `macros:` entries of the property files.
    pub macro_properties: Vec<MacroProperties>,
    /// `groups:` of the property files.
    pub groups: Vec<Group>,
    /// Non-fatal findings of the load (for example properties for a missing model).
    pub warnings: Vec<Diagnostic>,
}

impl Project {
    /// Loads the project in `root`; collects every error it finds rather than stopping
    /// at the first.
    pub fn load(root: &Path) -> Result<Project, Diagnostics> {
        Project::load_with(root, ProjectConfig::load(root)?)
    }

    /// [`Project::load`] with the project file already read.
    pub fn load_with(root: &Path, config: ProjectConfig) -> Result<Project, Diagnostics> {
        let mut errors = Diagnostics::default();
        let mut packages = Vec::new();
        for dir in config.package_dirs(root) {
            match ProjectConfig::load_package(root, &dir).map_err(Diagnostics::from) {
                Ok(package) if package.name == config.name => errors.push(
                    Diagnostic::error(
                        Code::ProjectFile,
                        format!(
                            "package {} has the root project's name '{}'",
                            dir.display(),
                            config.name
                        ),
                    )
                    .with_path(&package.file.path)
                    .with_help("rename the project or remove the package from packages.yml"),
                ),
                Ok(package) => match Project::load_files(root, package) {
                    Ok(p) => packages.push(p),
                    Err(e) => errors.extend(e),
                },
                Err(e) => errors.extend(e),
            }
        }
        match Project::load_files(root, config) {
            Ok(mut project) if !errors.has_errors() => {
                for package in &packages {
                    project.warnings.extend(package.warnings.iter().cloned());
                }
                project.packages = packages;
                Ok(project)
            }
            Ok(_) => Err(errors),
            Err(e) => {
                errors.extend(e);
                Err(errors)
            }
        }
    }

    /// One project's (or package's) files, without its packages.
    fn load_files(root: &Path, config: ProjectConfig) -> Result<Project, Diagnostics> {
        let mut errors = Diagnostics::default();
        let mut property_files = Vec::new();

        let model_paths = sql_files(root, &config.model_paths, &mut property_files, &mut errors);
        let mut models = Vec::with_capacity(model_paths.len());
        let read_models = parallel_map(&model_paths, |(dir, path)| {
            read(root, path).map(|file| node_file(&config.name, dir, file))
        });
        for model in read_models {
            match model {
                Ok(model) => models.push(model),
                Err(e) => errors.push(e),
            }
        }
        let mut seeds = Vec::new();
        for dir in &config.seed_paths {
            for path in walk(root, dir, &mut errors) {
                if has_extension(&path, &["csv"]) {
                    let fqn = fqn_for(&config.name, dir, &path);
                    seeds.push(SeedFile {
                        name: fqn.last().cloned().unwrap_or_default(),
                        path,
                        fqn,
                    });
                } else if has_extension(&path, YAML) {
                    property_files.push(path);
                }
            }
        }
        let mut macro_files = Vec::new();
        for dir in &config.macro_paths {
            let files = walk(root, dir, &mut errors);
            // dbt reads property files (their `macros:` entries) under the macro paths too.
            property_files.extend(files.iter().filter(|p| has_extension(p, YAML)).cloned());
            for path in files
                .iter()
                .filter(|p| has_extension(p, &["sql", "jinja", "j2"]))
            {
                match read(root, path) {
                    Ok(file) => macro_files.push(MacroFile {
                        package: config.name.clone(),
                        file,
                    }),
                    Err(e) => errors.push(e),
                }
            }
        }
        let mut snapshots = Vec::new();
        for (dir, path) in sql_files(
            root,
            &config.snapshot_paths,
            &mut property_files,
            &mut errors,
        ) {
            // dbt: a snapshot's fqn holds its file's stem, then the block's name.
            let prefix = fqn_for(&config.name, dir, &path);
            let blocks =
                read(root, &path).and_then(|file| snapshot_file::snapshot_blocks(&file, &prefix));
            match blocks {
                Ok(blocks) => snapshots.extend(blocks),
                Err(e) => errors.push(e),
            }
        }
        // Test paths hold singular tests and, as in dbt, generic test definitions
        // (`{% test name(model, column_name) %}`), which are loaded like macros.
        let mut singular_tests = Vec::new();
        for (dir, path) in sql_files(root, &config.test_paths, &mut property_files, &mut errors) {
            // dbt: `<test-path>/fixtures/` holds unit test fixtures, not tests.
            if path
                .strip_prefix(dir)
                .is_ok_and(|rest| rest.starts_with("fixtures"))
            {
                continue;
            }
            match read(root, &path) {
                Ok(file) if defines_generic_test(&file.text) => macro_files.push(MacroFile {
                    package: config.name.clone(),
                    file,
                }),
                Ok(file) => singular_tests.push(node_file(&config.name, dir, file)),
                Err(e) => errors.push(e),
            }
        }
        let mut analyses = Vec::new();
        for (dir, path) in sql_files(
            root,
            &config.analysis_paths,
            &mut property_files,
            &mut errors,
        ) {
            match read(root, &path) {
                Ok(file) => analyses.push(node_file(&config.name, dir, file)),
                Err(e) => errors.push(e),
            }
        }
        property_files.sort();
        property_files.dedup();
        let docs = read_docs_blocks(root, &config, &mut errors);

        let warnings = config.warnings.clone();
        let mut project = Project {
            root: root.to_path_buf(),
            config,
            models,
            seeds,
            singular_tests,
            analyses,
            snapshots,
            macro_files,
            packages: Vec::new(),
            model_properties: BTreeMap::new(),
            seed_properties: BTreeMap::new(),
            snapshot_properties: BTreeMap::new(),
            sources: Vec::new(),
            unit_tests: Vec::new(),
            exposures: Vec::new(),
            semantic: SemanticLayer::default(),
            docs,
            macro_properties: Vec::new(),
            groups: Vec::new(),
            warnings,
        };
        let parsed_files = parallel_map(&property_files, |path| {
            let fixtures = |name: &str, format: unit_tests::FixtureFormat| {
                unit_tests::read_fixture(root, &project.config.test_paths, name, format)
            };
            read(root, path).and_then(|f| properties::parse_property_file(&f, &fixtures))
        });
        for parsed in parsed_files {
            match parsed {
                Ok(props) => project.add_properties(props, &mut errors),
                Err(e) => errors.push(e),
            }
        }
        project.add_yaml_snapshots(&mut errors);
        let version_warnings =
            versions::attach_versions(&mut project.models, &project.model_properties);
        project.warnings.extend(version_warnings);
        project.check_unique_names(&mut errors);
        project.check_unique_groups(&mut errors);
        project.check_unique_exposures(&mut errors);
        project.semantic.check_unique(&mut errors);
        project.check_properties_match();
        if errors.has_errors() {
            return Err(errors);
        }
        // What the walk warned about (symbolic link loops, broken links).
        project.warnings.extend(errors.0);
        Ok(project)
    }

    /// The macro files of the project and of every installed package.
    pub fn all_macro_files(&self) -> Vec<MacroFile> {
        let mut files = self.macro_files.clone();
        for package in &self.packages {
            files.extend(package.macro_files.iter().cloned());
        }
        files
    }

    fn add_properties(&mut self, props: PropertyFile, errors: &mut Diagnostics) {
        self.warnings.extend(props.warnings);
        let entries = props
            .models
            .into_iter()
            .map(|p| (PropertyKind::Model, p))
            .chain(
                props
                    .snapshots
                    .into_iter()
                    .map(|p| (PropertyKind::Snapshot, p)),
            )
            .chain(props.seeds.into_iter().map(|p| (PropertyKind::Seed, p)));
        for (kind, p) in entries {
            // Models and snapshots share a namespace; seeds have their own map.
            let first = match kind {
                PropertyKind::Model | PropertyKind::Snapshot => self
                    .model_properties
                    .get(&p.name)
                    .or_else(|| self.snapshot_properties.get(&p.name)),
                PropertyKind::Seed => self.seed_properties.get(&p.name),
            };
            if let Some(first) = first {
                errors.push(
                    Diagnostic::error(
                        Code::PropertyFile,
                        format!("'{}' is described in two property files", p.name),
                    )
                    .with_span(yaml::entry_span(&p.file, &p.name))
                    .with_label(
                        yaml::entry_span(&first.file, &p.name),
                        "first described here",
                    )
                    .with_help("keep one entry and merge the other into it"),
                );
                continue;
            }
            let map = match kind {
                PropertyKind::Model => &mut self.model_properties,
                PropertyKind::Snapshot => &mut self.snapshot_properties,
                PropertyKind::Seed => &mut self.seed_properties,
            };
            map.insert(p.name.clone(), p);
        }
        self.unit_tests.extend(props.unit_tests);
        for source in props.sources {
            let duplicate = self
                .sources
                .iter()
                .find(|s| s.source_name == source.source_name && s.name == source.name);
            if let Some(first) = duplicate {
                let first_span = yaml::entry_span(&first.file, &source.name);
                // In the same file, the second declaration is after the first.
                let after = match first.file.path == source.file.path {
                    true => first_span.range.end,
                    false => 0,
                };
                errors.push(
                    Diagnostic::error(
                        Code::PropertyFile,
                        format!(
                            "source '{}.{}' is declared twice",
                            source.source_name, source.name
                        ),
                    )
                    .with_span(yaml::entry_span_after(&source.file, &source.name, after))
                    .with_label(first_span, "first declared here")
                    .with_help("declare each source table once"),
                );
                continue;
            }
            self.sources.push(source);
        }
        self.exposures.extend(props.exposures);
        self.semantic.extend(props.semantic);
        self.macro_properties.extend(props.macros);
        self.groups.extend(props.groups);
    }

    /// A group's name is its id: dbt rejects a second one.
    fn check_unique_groups(&self, errors: &mut Diagnostics) {
        let mut seen: BTreeMap<&str, &Group> = BTreeMap::new();
        for group in &self.groups {
            if let Some(first) = seen.insert(&group.name, group) {
                errors.push(
                    Diagnostic::error(
                        Code::DuplicateNode,
                        format!("two groups are named '{}'", group.name),
                    )
                    .with_span(yaml::entry_span(&group.file, &group.name))
                    .with_label(
                        yaml::entry_span(&first.file, &first.name),
                        "first declared here",
                    )
                    .with_help("rename or remove one of the groups"),
                );
            }
        }
    }

    /// An exposure's name is its id within the project: dbt rejects a second one.
    fn check_unique_exposures(&self, errors: &mut Diagnostics) {
        let mut seen: BTreeMap<&str, &Exposure> = BTreeMap::new();
        for exposure in &self.exposures {
            if let Some(first) = seen.insert(&exposure.name, exposure) {
                errors.push(
                    Diagnostic::error(
                        Code::DuplicateNode,
                        format!(
                            "two exposures are named '{}': {} and {}",
                            exposure.name,
                            first.file.path.display(),
                            exposure.file.path.display()
                        ),
                    )
                    .with_span(yaml::entry_span(&exposure.file, &exposure.name))
                    .with_label(
                        yaml::entry_span(&first.file, &first.name),
                        "first declared here",
                    )
                    .with_help("rename or remove one of the exposures"),
                );
            }
        }
    }

    /// dbt 1.9's YAML snapshots: a `snapshots:` entry with `relation:` defines the node.
    fn add_yaml_snapshots(&mut self, errors: &mut Diagnostics) {
        let defined: HashSet<String> = self.snapshots.iter().map(|s| s.name.clone()).collect();
        for props in self.snapshot_properties.values() {
            let Some(relation) = &props.relation else {
                continue;
            };
            if defined.contains(&props.name) {
                errors.push(
                    Diagnostic::error(
                        Code::DuplicateNode,
                        format!(
                            "snapshot '{}' is defined both by a snapshot block and by relation: in a property file",
                            props.name
                        ),
                    )
                    .with_span(yaml::entry_span(&props.file, &props.name))
                    .with_help("keep one definition: remove relation: or the {% snapshot %} block"),
                );
                continue;
            }
            match snapshot_file::yaml_snapshot(props, relation, &self.config.name) {
                Ok(node) => self.snapshots.push(node),
                Err(e) => errors.push(e),
            }
        }
    }

    /// Models, seeds and snapshots share one name space: ref('x') must mean one node.
    fn check_unique_names(&self, errors: &mut Diagnostics) {
        let mut seen: BTreeMap<&str, &Path> = BTreeMap::new();
        let files = self
            .models
            .iter()
            .chain(&self.snapshots)
            // The versions of a model share its name; their files are told apart.
            .map(|m| match m.version {
                Some(_) => (m.file_stem(), m.file.path.as_path()),
                None => (m.name.as_str(), m.file.path.as_path()),
            })
            .chain(
                self.seeds
                    .iter()
                    .map(|s| (s.name.as_str(), s.path.as_path())),
            );
        for (name, path) in files {
            if let Some(first) = seen.insert(name, path) {
                errors.push(
                    Diagnostic::error(
                        Code::DuplicateNode,
                        format!(
                            "two nodes are named '{name}': {} and {}",
                            first.display(),
                            path.display()
                        ),
                    )
                    .with_path(path)
                    .with_help("rename one of the files: ref() needs names to be unique"),
                );
            }
        }
    }

    fn check_properties_match(&mut self) {
        let mut warnings = Vec::new();
        let models: HashSet<&str> = self.models.iter().map(|m| m.name.as_str()).collect();
        for (name, props) in &self.model_properties {
            // A versioned entry's files are checked version by version.
            if props.versions.is_empty() && !models.contains(name.as_str()) {
                warnings.push(missing_node_warning("model", name, props));
            }
        }
        let seeds: HashSet<&str> = self.seeds.iter().map(|s| s.name.as_str()).collect();
        for (name, props) in &self.seed_properties {
            if !seeds.contains(name.as_str()) {
                warnings.push(missing_node_warning("seed", name, props));
            }
        }
        let snapshots: HashSet<&str> = self.snapshots.iter().map(|s| s.name.as_str()).collect();
        for (name, props) in &self.snapshot_properties {
            if !snapshots.contains(name.as_str()) {
                warnings.push(missing_node_warning("snapshot", name, props));
            }
        }
        self.warnings.extend(warnings);
    }
}

/// Which `*:` list of a property file an entry came from.
#[derive(Clone, Copy)]
enum PropertyKind {
    Model,
    Snapshot,
    Seed,
}

/// The docs blocks of every `.md` file under the docs paths, each file once.
fn read_docs_blocks(
    root: &Path,
    config: &ProjectConfig,
    errors: &mut Diagnostics,
) -> Vec<DocBlock> {
    let mut files: Vec<(&str, PathBuf)> = Vec::new();
    for dir in &config.docs_paths {
        // The docs paths are the resource paths by default: what their walk found (a
        // link that loops) is said once.
        let mut found = Diagnostics::default();
        let paths = walk(root, dir, &mut found);
        for finding in found.0 {
            if !errors.0.contains(&finding) {
                errors.push(finding);
            }
        }
        for path in paths {
            if has_extension(&path, &["md"]) && !files.iter().any(|(_, p)| *p == path) {
                files.push((dir.as_str(), path));
            }
        }
    }
    let package_dir = config.file.path.parent().unwrap_or(Path::new(""));
    let slashed = |p: &Path| p.to_string_lossy().replace('\\', "/");
    let mut blocks = Vec::new();
    for (dir, path) in files {
        let relative = slashed(path.strip_prefix(dir).unwrap_or(&path));
        let original = slashed(path.strip_prefix(package_dir).unwrap_or(&path));
        match read(root, &path)
            .and_then(|file| docs_blocks::docs_blocks(&config.name, (&relative, &original), &file))
        {
            Ok(found) => blocks.extend(found),
            Err(e) => errors.push(e),
        }
    }
    docs_blocks::check_unique_docs(&blocks, errors);
    blocks
}

fn missing_node_warning(kind: &str, name: &str, props: &NodeProperties) -> Diagnostic {
    Diagnostic::warning(
        Code::PropertyFile,
        format!("properties describe {kind} '{name}', which does not exist"),
    )
    .with_span(yaml::entry_span(&props.file, name))
    .with_help(format!("fix the name, or add the {kind} file"))
    .with_event(if kind == "macro" {
        "MacroNotFoundForPatch"
    } else {
        "NoNodeForYamlKey"
    })
}

fn node_file(project: &str, dir: &str, file: Arc<SourceFile>) -> NodeFile {
    let fqn = fqn_for(project, dir, &file.path);
    NodeFile {
        name: fqn.last().cloned().unwrap_or_default(),
        file,
        fqn,
        version: None,
    }
}

/// [project, sub-folders of the resource dir..., file stem].
fn fqn_for(project: &str, dir: &str, path: &Path) -> Vec<String> {
    let relative = path.strip_prefix(dir).unwrap_or(path);
    let mut fqn = vec![project.to_string()];
    if let Some(parent) = relative.parent() {
        fqn.extend(
            parent
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned()),
        );
    }
    if let Some(stem) = relative.file_stem() {
        fqn.push(stem.to_string_lossy().into_owned());
    }
    fqn
}

/// `f` over `items` on every core, results in the items' order. Loading (file reads, YAML)
/// and the compiler's renders share it.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = items.len().div_ceil(threads).max(1);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Whether a test-path file holds a `{% test ... %}` block rather than a singular test.
fn defines_generic_test(text: &str) -> bool {
    text.split("{%").skip(1).any(|tag| {
        tag.trim_start_matches(['-', '+'])
            .trim_start()
            .strip_prefix("test")
            .is_some_and(|rest| rest.starts_with(char::is_whitespace))
    })
}

/// The extensions of property files.
const YAML: &[&str] = &["yml", "yaml"];

fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .is_some_and(|x| extensions.iter().any(|w| x.eq_ignore_ascii_case(w)))
}

/// The `.sql` files under `dirs`, each with the folder it is under; the property files
/// met on the way go to `property_files`.
fn sql_files<'a>(
    root: &Path,
    dirs: &'a [String],
    property_files: &mut Vec<PathBuf>,
    errors: &mut Diagnostics,
) -> Vec<(&'a String, PathBuf)> {
    let mut sql = Vec::new();
    for dir in dirs {
        for path in walk(root, dir, errors) {
            if has_extension(&path, &["sql"]) {
                sql.push((dir, path));
            } else if has_extension(&path, YAML) {
                property_files.push(path);
            }
        }
    }
    sql
}

fn read(root: &Path, relative: &Path) -> Result<Arc<SourceFile>, Diagnostic> {
    let text = std::fs::read_to_string(root.join(relative)).map_err(|e| {
        Diagnostic::error(Code::Io, format!("cannot read {}: {e}", relative.display()))
            .with_path(relative)
            .with_help("check the file exists, is readable and is UTF-8 text")
    })?;
    Ok(Arc::new(SourceFile::new(relative, text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn temp_project(name: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("mart_project_{name}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        write(&root, "dbt_project.yml", "name: learn\nprofile: learn\n");
        root
    }

    #[test]
    fn loads_models_seeds_macros_and_properties() {
        let root = temp_project("load");
        write(&root, "models/dim/dim_user.sql", "select 1");
        write(
            &root,
            "models/dim/_dim.yml",
            "models:\n  - name: dim_user\n    description: d\n  - name: ghost\n",
        );
        write(&root, "seeds/user_event.csv", "a\n1\n");
        write(&root, "macros/m.sql", "{% macro m() %}1{% endmacro %}");
        write(
            &root,
            "snapshots/_snap.yml",
            "snapshots:\n  - name: user_history\n    description: s\n  - name: orders_history\n    relation: source('raw', 'orders')\n    config: {unique_key: id}\n",
        );
        write(
            &root,
            "snapshots/history/user_history.sql",
            "{% snapshot user_history %}\nselect 1\n{% endsnapshot %}\n",
        );
        write(&root, "tests/assert_positive.sql", "select 1 where false");
        write(
            &root,
            "tests/generic/is_even.sql",
            "{% test is_even(model, column_name) %}select 1{% endtest %}",
        );
        let project = Project::load(&root).unwrap();
        assert_eq!(project.models[0].fqn, vec!["learn", "dim", "dim_user"]);
        assert_eq!(project.singular_tests.len(), 1);
        assert_eq!(
            project.singular_tests[0].fqn,
            vec!["learn", "assert_positive"]
        );
        assert_eq!(project.macro_files.len(), 2);
        assert_eq!(
            project.models[0].file.path,
            Path::new("models/dim/dim_user.sql")
        );
        assert_eq!(project.seeds[0].name, "user_event");
        assert_eq!(project.model_properties["dim_user"].description, "d");
        assert_eq!(project.snapshot_properties["user_history"].description, "s");
        let snapshots: Vec<(&str, &[String])> = project
            .snapshots
            .iter()
            .map(|s| (s.name.as_str(), s.fqn.as_slice()))
            .collect();
        assert_eq!(
            snapshots,
            [
                (
                    "user_history",
                    &[
                        "learn".to_string(),
                        "history".into(),
                        "user_history".into(),
                        "user_history".into()
                    ][..]
                ),
                (
                    "orders_history",
                    &["learn".to_string(), "orders_history".into()][..]
                ),
            ]
        );
        assert_eq!(
            project.snapshots[1].file.text.as_ref(),
            "\n\n\n\nselect * from {{ source('raw', 'orders') }}\n"
        );
        assert_eq!(project.warnings.len(), 1);
        assert_eq!(
            project.warnings[0].message,
            "properties describe model 'ghost', which does not exist"
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn many_files_load_in_path_order() {
        let root = temp_project("order");
        let mut properties = String::from("models:\n");
        for i in 0..40 {
            write(&root, &format!("models/g{}/m{i:02}.sql", i % 3), "select 1");
            properties.push_str(&format!("  - name: m{i:02}\n"));
        }
        write(&root, "models/_props.yml", &properties);
        write(&root, "models/g0/_more.yml", "models:\n  - name: ghost\n");
        let project = Project::load(&root).unwrap();
        let paths: Vec<&Path> = project
            .models
            .iter()
            .map(|m| m.file.path.as_path())
            .collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);
        assert_eq!(project.models.len(), 40);
        assert_eq!(project.model_properties.len(), 41);
        assert_eq!(project.warnings.len(), 1);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn duplicate_model_names_name_both_files() {
        let root = temp_project("dup");
        write(&root, "models/a/orders.sql", "select 1");
        write(&root, "models/b/orders.sql", "select 2");
        let errors = Project::load(&root).unwrap_err();
        assert_eq!(
            errors.0[0].message,
            "two nodes are named 'orders': models/a/orders.sql and models/b/orders.sql"
        );
        std::fs::remove_dir_all(root).unwrap();
    }
}

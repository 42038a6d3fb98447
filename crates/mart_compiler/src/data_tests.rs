//! Data tests as nodes: generic tests declared in property files (on the columns of
//! models, seeds, snapshots and sources, or on the whole node) and singular tests (the SQL
//! files of the test paths). Names, unique ids and configs follow dbt.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic, SourceFile, Span};
use mart_graph::{NodeId, ResourceType};
use mart_jinja::{JinjaEnv, Phase, RefCall, RenderScope, SourceCall};
use mart_project::{
    merge_into, ColumnProperties, ConfigError, ConfigMap, NodeConfig, NodeFile, Target,
};
use md5::{Digest, Md5};
use serde_json::Value;

use crate::loading::Loading;
use crate::manifest::{
    config_error, folded_unquoted, model_value, relation_for, rendered_configs, Node, SourceNode,
};

/// What makes a node a test.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TestInfo {
    /// Generic tests: the test macro and its arguments (dbt's `test_metadata`).
    pub metadata: Option<TestMetadata>,
    /// The model, seed or snapshot a generic test is declared on.
    pub attached_node: Option<NodeId>,
    pub column_name: Option<String>,
    /// What a generic test renders: a call of its test macro. Singular tests render
    /// their own file.
    #[serde(with = "mart_diagnostics::shared_files::option")]
    pub template: Option<Arc<SourceFile>>,
    /// The node's source as dbt's manifest shows it.
    pub raw_code: String,
    pub config: TestConfig,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TestMetadata {
    /// The test name without namespace: `not_null`, `accepted_values`.
    pub name: String,
    pub namespace: Option<String>,
    /// The arguments, with `column_name` and `model` as dbt records them.
    pub kwargs: serde_json::Map<String, Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Severity {
    Error,
    Warn,
}

/// The configs that decide how a test's failures are counted and judged.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TestConfig {
    pub severity: Severity,
    /// A condition on the failure count, such as `!= 0` or `> 10`.
    pub warn_if: String,
    pub error_if: String,
    pub fail_calc: String,
    pub limit: Option<u64>,
    /// Whether the failing rows are kept (`store_failures`, or `store_failures_as` table
    /// or view, which wins over it as in dbt).
    pub store_failures: bool,
    /// What keeps them when `store_failures` is on.
    #[serde(default)]
    pub store_failures_as: StoreFailuresAs,
}

/// dbt's `store_failures_as` (`ephemeral` turns storing off).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StoreFailuresAs {
    #[default]
    Table,
    View,
    /// A value dbt does not know: as in dbt, the test fails with it when it runs.
    Invalid(String),
}

impl TestConfig {
    fn from_config(config: &NodeConfig) -> Result<Self, ConfigError> {
        let text = |key: &str, default: &str| -> Result<String, ConfigError> {
            Ok(config.string(key)?.unwrap_or_else(|| default.to_string()))
        };
        let severity = match text("severity", "error")?.to_ascii_lowercase().as_str() {
            "error" => Severity::Error,
            "warn" => Severity::Warn,
            other => {
                return Err(ConfigError {
                    key: "severity".into(),
                    expected: "error or warn",
                    found: format!("'{other}'"),
                })
            }
        };
        let limit = match config.raw.get("limit") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.as_u64().is_some() => n.as_u64(),
            Some(other) => {
                return Err(ConfigError {
                    key: "limit".into(),
                    expected: "a whole number",
                    found: other.to_string(),
                })
            }
        };
        let store_failures = match config.raw.get("store_failures") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(ConfigError {
                    key: "store_failures".into(),
                    expected: "true or false",
                    found: other.to_string(),
                })
            }
        };
        // Consistent with store_failures after `finalize_store_failures`.
        let store_failures_as = match config.raw.get("store_failures_as") {
            None | Some(Value::Null) => StoreFailuresAs::Table,
            Some(Value::String(kind)) => match kind.as_str() {
                "table" | "ephemeral" => StoreFailuresAs::Table,
                "view" => StoreFailuresAs::View,
                other => StoreFailuresAs::Invalid(other.to_string()),
            },
            Some(other) => {
                return Err(ConfigError {
                    key: "store_failures_as".into(),
                    expected: "ephemeral, table or view",
                    found: other.to_string(),
                })
            }
        };
        Ok(Self {
            severity,
            warn_if: text("warn_if", "!= 0")?,
            error_if: text("error_if", "!= 0")?,
            fail_calc: text("fail_calc", "count(*)")?,
            limit,
            store_failures,
            store_failures_as,
        })
    }
}

/// dbt's reconciliation of `store_failures` and `store_failures_as`: when the latter is
/// set it decides (`ephemeral` stores nothing, `table` and `view` store, any other value
/// stores and fails when the test runs); else it follows `store_failures` (`table` for
/// true, `ephemeral` for false). The node's config (what templates and manifest.json
/// see) then says both.
fn finalize_store_failures(config: &mut ConfigMap) {
    match config.get("store_failures_as").cloned() {
        None | Some(Value::Null) => {
            let kind = match config.get("store_failures") {
                Some(Value::Bool(true)) => Value::from("table"),
                Some(Value::Bool(false)) => Value::from("ephemeral"),
                _ => Value::Null,
            };
            config.insert("store_failures_as".into(), kind);
        }
        Some(Value::String(kind)) => {
            config.insert("store_failures".into(), Value::Bool(kind != "ephemeral"));
        }
        // Not a string: an error when the test config is read.
        Some(_) => {}
    }
}

/// dbt's test configs before any layer speaks (they show in manifest.json).
fn default_test_config() -> ConfigMap {
    [
        ("materialized", Value::from("test")),
        ("severity", Value::from("ERROR")),
        ("warn_if", Value::from("!= 0")),
        ("error_if", Value::from("!= 0")),
        ("fail_calc", Value::from("count(*)")),
        ("schema", Value::from("dbt_test__audit")),
        ("store_failures", Value::Null),
        ("store_failures_as", Value::Null),
        ("where", Value::Null),
        ("limit", Value::Null),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Keys of a test declaration that are configs rather than arguments of the test macro.
const CONFIG_KEYS: [&str; 14] = [
    "severity",
    "tags",
    "enabled",
    "where",
    "limit",
    "warn_if",
    "error_if",
    "fail_calc",
    "store_failures",
    "store_failures_as",
    "meta",
    "database",
    "schema",
    "alias",
];

/// The node a generic test is declared on.
struct Owner<'a> {
    /// The name in the test's name: the model name, or `<source>_<table>`.
    test_name_part: String,
    /// Sources: dbt names their tests `source_<test>_<source>_<table>_...`.
    is_source: bool,
    /// The Jinja that resolves to its relation: `ref('x')` or `source('s', 't')`.
    relation_expr: String,
    /// The same call as data.
    relation_call: Dependency,
    attached_node: Option<NodeId>,
    /// The property file entry (for error locations).
    file: &'a Arc<SourceFile>,
    entry: &'a str,
}

/// One test declaration of a property file, before rendering.
struct Declaration<'a> {
    owner: Owner<'a>,
    column: Option<&'a ColumnProperties>,
    value: &'a Value,
}

/// Every generic and singular test of the project, parse-rendered (in parallel) so their
/// dependencies and `config()` calls are known. Tests of disabled or missing nodes are
/// left out, as dbt leaves them out.
pub(crate) fn parse_tests(
    project: &Loading,
    target: &Target,
    env: &JinjaEnv,
    nodes: &[Node],
    sources: &BTreeMap<NodeId, SourceNode>,
) -> Vec<Result<Node, Diagnostic>> {
    let by_name: BTreeMap<(&str, ResourceType), &Node> = nodes
        .iter()
        .map(|n| ((n.name.as_str(), n.resource_type), n))
        .collect();
    let mut declarations = Vec::new();
    let entries = [
        (&project.model_properties, ResourceType::Model),
        (&project.seed_properties, ResourceType::Seed),
        (&project.snapshot_properties, ResourceType::Snapshot),
    ];
    for (properties, resource_type) in entries {
        for (name, props) in properties {
            // A versioned model's tests are each version's (dbt names them after
            // `<name>_v<v>` and refs the version).
            let targets: Vec<(&Node, &mart_project::NodeProperties, Option<&str>)> =
                if props.versions.is_empty() {
                    by_name
                        .get(&(name.as_str(), resource_type))
                        .map(|node| (*node, props, None))
                        .into_iter()
                        .collect()
                } else {
                    props
                        .versions
                        .iter()
                        .filter_map(|v| {
                            let node = nodes
                                .iter()
                                .find(|n| n.name == *name && n.version() == Some(v.v.as_str()))?;
                            Some((node, &v.properties, Some(v.v.as_str())))
                        })
                        .collect()
                };
            for (node, props, version) in targets {
                let owner = || Owner {
                    test_name_part: match version {
                        Some(v) => format!("{name}_v{v}"),
                        None => name.clone(),
                    },
                    is_source: false,
                    relation_expr: match version {
                        Some(v) => {
                            format!("ref({}, version={})", quoted_name(name), quoted_name(v))
                        }
                        None => format!("ref({})", quoted_name(name)),
                    },
                    relation_call: Dependency::Ref(RefCall {
                        package: None,
                        name: name.clone(),
                        version: version.map(str::to_string),
                    }),
                    attached_node: Some(node.id.clone()),
                    file: &props.file,
                    entry: name,
                };
                add_declarations(&mut declarations, owner, &props.tests, &props.columns);
            }
        }
    }
    for source in sources.values() {
        let table = &source.table;
        let owner = || Owner {
            test_name_part: format!("{}_{}", table.source_name, table.name),
            is_source: true,
            relation_expr: format!(
                "source({}, {})",
                quoted_name(&table.source_name),
                quoted_name(&table.name)
            ),
            relation_call: Dependency::Source(SourceCall {
                source: table.source_name.clone(),
                table: table.name.clone(),
            }),
            attached_node: None,
            file: &table.file,
            entry: &table.name,
        };
        add_declarations(&mut declarations, owner, &table.tests, &table.columns);
    }
    let mut results: Vec<Result<Node, Diagnostic>> =
        mart_project::parallel_map(&declarations, |d| generic_test(project, target, env, d));
    results.extend(mart_project::parallel_map(&project.singular_tests, |f| {
        singular_test(project, target, env, f)
    }));
    results
}

fn add_declarations<'a>(
    out: &mut Vec<Declaration<'a>>,
    owner: impl Fn() -> Owner<'a>,
    node_tests: &'a [Value],
    columns: &'a [ColumnProperties],
) {
    for value in node_tests {
        out.push(Declaration {
            owner: owner(),
            column: None,
            value,
        });
    }
    for column in columns {
        for value in &column.tests {
            out.push(Declaration {
                owner: owner(),
                column: Some(column),
                value,
            });
        }
    }
}

/// A declaration split into the test's name, its arguments and its configs.
struct Parsed {
    namespace: Option<String>,
    test: String,
    custom_name: Option<String>,
    args: serde_json::Map<String, Value>,
    config: ConfigMap,
}

/// `unique`, `{accepted_values: {values: [...], config: {...}}}`, or dbt's
/// `{test_name: x, name: y, ...}` form; configs may sit beside the arguments.
fn parse_declaration(value: &Value) -> Result<Parsed, String> {
    let (full_name, body) = match value {
        Value::String(name) => (name.clone(), serde_json::Map::new()),
        Value::Object(map) if map.contains_key("test_name") => {
            let mut body = map.clone();
            match body.remove("test_name") {
                Some(Value::String(name)) => (name, body),
                _ => return Err("test_name must be a string".into()),
            }
        }
        Value::Object(map) if map.len() == 1 => {
            let (name, body) = map.iter().next().ok_or("an empty test")?;
            match body {
                Value::Object(body) => (name.clone(), body.clone()),
                Value::Null => (name.clone(), serde_json::Map::new()),
                _ => return Err(format!("the arguments of '{name}' must be a mapping")),
            }
        }
        _ => {
            return Err(
                "a test is a name (unique) or a mapping of one name to its arguments".into(),
            )
        }
    };
    let (namespace, test) = match full_name.rsplit_once('.') {
        Some((ns, name)) => (Some(ns.to_string()), name.to_string()),
        None => (None, full_name.clone()),
    };
    let mut args = serde_json::Map::new();
    let mut config = ConfigMap::new();
    let mut custom_name = None;
    for (key, value) in body {
        match key.as_str() {
            "name" => custom_name = value.as_str().map(str::to_string),
            "config" => {
                if let Value::Object(map) = value {
                    let layer: ConfigMap = map
                        .into_iter()
                        .map(|(k, v)| (mart_project::normalize_key(&k), v))
                        .collect();
                    merge_into(&mut config, &layer);
                }
            }
            // dbt 1.10's `arguments:` holds the macro's arguments.
            "arguments" => {
                if let Value::Object(map) = value {
                    args.extend(map);
                }
            }
            k if CONFIG_KEYS.contains(&k) => {
                merge_into(&mut config, &ConfigMap::from([(key.clone(), value)]));
            }
            _ => {
                args.insert(key, value);
            }
        }
    }
    Ok(Parsed {
        namespace,
        test,
        custom_name,
        args,
        config,
    })
}

fn generic_test(
    project: &Loading,
    target: &Target,
    env: &JinjaEnv,
    declaration: &Declaration,
) -> Result<Node, Diagnostic> {
    let owner = &declaration.owner;
    let at_entry = || mart_project::entry_span(owner.file, owner.entry);
    let parsed = parse_declaration(declaration.value).map_err(|why| {
        Diagnostic::error(
            Code::PropertyFile,
            format!("a test of '{}' is not valid: {why}", owner.entry),
        )
        .with_span(at_entry())
        .with_help("write `- unique` or `- accepted_values: {values: [a, b]}`")
    })?;
    let macro_name = format!("test_{}", parsed.test);
    // `dbt_utils.equality` is the package's test; a bare name is the project's own, then
    // dbt's built-in one.
    let Some(macro_package) = env.macro_package(None, parsed.namespace.as_deref(), &macro_name)
    else {
        let span = test_name_span(owner.file, &at_entry(), &parsed.test);
        let written = match &parsed.namespace {
            Some(ns) => format!("{ns}.{}", parsed.test),
            None => parsed.test.clone(),
        };
        let help = match &parsed.namespace {
            Some(ns) => format!(
                "check the package name and that `mart deps` installed '{ns}'; its generic tests are {{% test name(...) %}} blocks"
            ),
            None => format!(
                "use unique, not_null, accepted_values or relationships, a package's test as package.{0}, or define it with {{% test {0}(model, column_name) %}} in a macro or test path",
                parsed.test
            ),
        };
        return Err(Diagnostic::error(
            Code::PropertyFile,
            format!("unknown generic test '{written}'"),
        )
        .with_span(span)
        .with_help(help));
    };
    if macro_package == mart_jinja::INTERNAL_PACKAGE {
        check_required_arguments(&parsed.test, &parsed.args)
            .map_err(|d| d.with_span(test_name_span(owner.file, &at_entry(), &parsed.test)))?;
    }
    let macro_call = match &parsed.namespace {
        Some(ns) => format!("{ns}.{macro_name}"),
        None => macro_name.clone(),
    };
    let column_name = declaration.column.map(|c| {
        if c.quote == Some(true) {
            format!("\"{}\"", c.name.replace('"', "\"\""))
        } else {
            c.name.clone()
        }
    });
    let mut name_args = parsed.args.clone();
    if let Some(column) = &column_name {
        name_args.insert("column_name".into(), Value::from(column.clone()));
    }
    let mut test_type = match &parsed.namespace {
        Some(ns) => format!("{ns}_{}", parsed.test),
        None => parsed.test.clone(),
    };
    if owner.is_source {
        test_type = format!("source_{test_type}");
    }
    let (short_name, full_name) = match &parsed.custom_name {
        Some(name) => (name.clone(), name.clone()),
        None => synthesize_test_names(&test_type, &owner.test_name_part, &name_args),
    };

    let mut kwargs = name_args.clone();
    kwargs.insert(
        "model".into(),
        Value::from(format!(
            "{{{{ get_where_subquery({}) }}}}",
            owner.relation_expr
        )),
    );
    let mut call_args = vec![format!("model=get_where_subquery({})", owner.relation_expr)];
    for (key, value) in &name_args {
        call_args.push(format!("{key}={}", jinja_literal(value)));
    }
    let template = Arc::new(SourceFile::new(
        format!("{}#{short_name}", owner.file.path.display()),
        format!("{{{{ {macro_call}({}) }}}}", call_args.join(", ")),
    ));
    let metadata = TestMetadata {
        name: parsed.test.clone(),
        namespace: parsed.namespace.clone(),
        kwargs,
    };
    let package = &project.config.name;
    let id = NodeId::new(format!(
        "test.{package}.{full_name}.{}",
        test_hash(&full_name, &metadata)
    ));
    let mut fqn = vec![package.clone()];
    let relative_file = PathBuf::from(project.relative_path(&owner.file.path));
    fqn.extend(
        relative_file
            .parent()
            .into_iter()
            .flat_map(|p| p.components().skip(1))
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    fqn.push(full_name.clone());
    let static_dependencies = if macro_package == mart_jinja::INTERNAL_PACKAGE {
        static_dependencies(&owner.relation_call, &name_args)
    } else {
        None
    };
    let draft = TestDraft {
        id,
        name: full_name,
        static_dependencies,
        alias: short_name.clone(),
        fqn,
        original_file_path: project.relative_path(&owner.file.path),
        path: format!("{short_name}.sql"),
        file: owner.file.clone(),
        render_file: template.clone(),
        declared_config: parsed.config,
        metadata: Some(metadata),
        attached_node: owner.attached_node.clone(),
        column_name: declaration.column.map(|c| c.name.clone()),
        template: Some(template),
        raw_code: format!("{{{{ {macro_call}(**_dbt_generic_test_kwargs) }}}}"),
    };
    draft.into_node(project, target, env)
}

/// The arguments dbt's built-in generic tests cannot do without, with an example.
/// minijinja leaves a missing macro argument undefined: the test would compile to SQL
/// that checks nothing.
const REQUIRED_ARGUMENTS: [(&str, &[&str], &str); 2] = [
    (
        "accepted_values",
        &["values"],
        "accepted_values: {values: [a, b]}",
    ),
    (
        "relationships",
        &["to", "field"],
        "relationships: {to: ref('customers'), field: id}",
    ),
];

fn check_required_arguments(
    test: &str,
    args: &serde_json::Map<String, Value>,
) -> Result<(), Diagnostic> {
    let Some((_, required, example)) = REQUIRED_ARGUMENTS.iter().find(|(t, ..)| *t == test) else {
        return Ok(());
    };
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|a| args.get(*a).is_none_or(Value::is_null))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Diagnostic::error(
        Code::PropertyFile,
        format!(
            "test '{test}' needs the argument{} {}",
            if missing.len() == 1 { "" } else { "s" },
            missing
                .iter()
                .map(|a| format!("'{a}'"))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    )
    .with_help(format!("write `- {example}`")))
}

fn singular_test(
    project: &Loading,
    target: &Target,
    env: &JinjaEnv,
    file: &NodeFile,
) -> Result<Node, Diagnostic> {
    let package = &project.config.name;
    let draft = TestDraft {
        id: NodeId::for_node(ResourceType::Test, package, &file.name),
        static_dependencies: None,
        name: file.name.clone(),
        alias: file.name.clone(),
        fqn: file.fqn.clone(),
        original_file_path: project.relative_path(&file.file.path),
        path: format!("{}.sql", file.fqn[1..].join("/")),
        file: file.file.clone(),
        render_file: file.file.clone(),
        declared_config: ConfigMap::new(),
        metadata: None,
        attached_node: None,
        column_name: None,
        template: None,
        raw_code: file.file.text.to_string(),
    };
    draft.into_node(project, target, env)
}

/// A test node before its parse render.
struct TestDraft {
    id: NodeId,
    name: String,
    alias: String,
    fqn: Vec<String>,
    original_file_path: String,
    path: String,
    /// The file the test is written in (property file or singular test).
    file: Arc<SourceFile>,
    render_file: Arc<SourceFile>,
    declared_config: ConfigMap,
    metadata: Option<TestMetadata>,
    attached_node: Option<NodeId>,
    column_name: Option<String>,
    template: Option<Arc<SourceFile>>,
    raw_code: String,
    /// Known without rendering: a built-in generic test reads its node and the relations
    /// named in its arguments, and calls no config(). Rendering 20,000 of them at every
    /// load would cost more than parsing the models.
    static_dependencies: Option<Vec<Dependency>>,
}

/// A ref() or source() a test makes.
#[derive(Clone, Debug)]
pub(crate) enum Dependency {
    Ref(RefCall),
    Source(SourceCall),
}

/// The relations a built-in generic test reads, when every relation argument is a plain
/// `ref('x')` / `ref('pkg', 'x')` / `source('s', 't')`; `None` sends it to a parse render.
fn static_dependencies(
    owner: &Dependency,
    args: &serde_json::Map<String, Value>,
) -> Option<Vec<Dependency>> {
    let mut found = vec![owner.clone()];
    for value in args.values() {
        if let Value::String(text) = value {
            if is_relation_call(text) {
                found.push(parse_relation_call(text)?);
            }
        }
    }
    Some(found)
}

pub(crate) fn parse_relation_call(text: &str) -> Option<Dependency> {
    let text = text.trim();
    let (function, rest) = text.split_once('(')?;
    let inner = rest.strip_suffix(')')?;
    let mut args = Vec::new();
    let mut version = None;
    for part in inner.split(',') {
        let part = part.trim();
        // ref('m', v=2): the version of a versioned model.
        if let Some((key, value)) = part.split_once('=') {
            if !matches!(key.trim(), "v" | "version") || version.is_some() {
                return None;
            }
            version = Some(value.trim().trim_matches(['\'', '"']).to_string());
            continue;
        }
        let quoted = (part.starts_with('\'') && part.ends_with('\''))
            || (part.starts_with('"') && part.ends_with('"'));
        if !quoted || part.len() < 2 {
            return None;
        }
        args.push(part[1..part.len() - 1].to_string());
    }
    match (function.trim(), args.as_slice()) {
        ("ref", [name]) => Some(Dependency::Ref(RefCall {
            package: None,
            name: name.clone(),
            version,
        })),
        ("ref", [package, name]) => Some(Dependency::Ref(RefCall {
            package: Some(package.clone()),
            name: name.clone(),
            version,
        })),
        ("source", [source, table]) if version.is_none() => Some(Dependency::Source(SourceCall {
            source: source.clone(),
            table: table.clone(),
        })),
        _ => None,
    }
}

impl TestDraft {
    /// Parse-renders the test: its refs and sources become dependencies, `config()`
    /// calls layer over the project's `tests:` configs and the declaration's.
    fn into_node(
        self,
        project: &Loading,
        target: &Target,
        env: &JinjaEnv,
    ) -> Result<Node, Diagnostic> {
        let mut config = default_test_config();
        for layer in project.layers(|c| &c.tests, &self.fqn) {
            merge_into(&mut config, &layer);
        }
        merge_into(
            &mut config,
            &rendered_configs(env, &self.file, &self.declared_config)?,
        );
        let mut macros = generic_test_macros(
            env,
            project.scope_package().as_deref(),
            self.metadata.as_ref(),
        );
        let (refs, sources) = match self.static_dependencies {
            Some(dependencies) => {
                let mut refs = Vec::new();
                let mut sources = Vec::new();
                for dependency in dependencies {
                    match dependency {
                        Dependency::Ref(call) => refs.push(call),
                        Dependency::Source(call) => sources.push(call),
                    }
                }
                (refs, sources)
            }
            None => {
                let mut scope = RenderScope::new(Phase::Parse);
                scope.package = project.scope_package();
                scope.config = config.clone();
                scope.model = model_value(
                    &self.id,
                    (&self.name, None),
                    ResourceType::Test,
                    &self.fqn,
                    &self.original_file_path,
                    &config,
                );
                let scope = Arc::new(scope);
                env.render(&self.render_file, &scope)?;
                let recorded = scope.take_recorded();
                for layer in &recorded.configs {
                    merge_into(&mut config, layer);
                }
                for id in recorded.macros {
                    if !macros.contains(&id) {
                        macros.push(id);
                    }
                }
                (recorded.refs, recorded.sources)
            }
        };
        if !config.contains_key("alias") {
            config.insert("alias".into(), Value::from(self.alias.clone()));
        }
        finalize_store_failures(&mut config);
        let node_config =
            NodeConfig::from_map(config, "test").map_err(|e| config_error(&self.file, &e))?;
        let info = TestInfo {
            metadata: self.metadata,
            attached_node: self.attached_node,
            column_name: self.column_name,
            template: self.template,
            raw_code: self.raw_code,
            config: TestConfig::from_config(&node_config)
                .map_err(|e| config_error(&self.file, &e))?,
        };
        let relation = relation_for(
            env,
            target,
            &self.id,
            (&self.alias, None),
            ResourceType::Test,
            &self.fqn,
            &node_config,
        )
        .map(|r| folded_unquoted(r, &project.root.quoting))?;
        Ok(Node {
            id: self.id,
            name: self.name,
            resource_type: ResourceType::Test,
            package: project.config.name.clone(),
            fqn: self.fqn,
            original_file_path: self.original_file_path,
            path: self.path,
            file: Some(self.file),
            config: Box::new(node_config),
            relation,
            description: String::new(),
            columns: Arc::from(Vec::new()),
            constraints: Arc::from(Vec::new()),
            depends_on: Vec::new(),
            refs,
            source_calls: sources,
            depends_on_macros: macros,
            test: Some(Box::new(info)),
            unit_test: None,
            versioning: None,
        })
    }
}

/// The macros a generic test depends on as dbt lists them: its test macro, and, but for
/// dbt's own `not_null` and `unique` (which dbt parses without rendering),
/// `get_where_subquery`, which renders its `model` argument. Empty for a singular test.
fn generic_test_macros(
    env: &JinjaEnv,
    package: Option<&str>,
    metadata: Option<&TestMetadata>,
) -> Vec<String> {
    let Some(metadata) = metadata else {
        return Vec::new();
    };
    let macro_name = format!("test_{}", metadata.name);
    let owner = env
        .macro_package(package, metadata.namespace.as_deref(), &macro_name)
        .unwrap_or(mart_jinja::INTERNAL_PACKAGE);
    let mut macros = vec![format!("macro.{owner}.{macro_name}")];
    let fast_path = owner == mart_jinja::INTERNAL_PACKAGE
        && matches!(metadata.name.as_str(), "not_null" | "unique");
    if !fast_path {
        let owner = env
            .macro_package(package, None, "get_where_subquery")
            .unwrap_or(mart_jinja::INTERNAL_PACKAGE);
        macros.push(format!("macro.{owner}.get_where_subquery"));
    }
    macros
}

/// Where the test's name is written under its property entry (else the entry).
fn test_name_span(file: &Arc<SourceFile>, entry: &Span, test: &str) -> Span {
    match file.text[entry.range.start..].find(test) {
        Some(i) => {
            let start = entry.range.start + i;
            Span::new(file.clone(), start..start + test.len())
        }
        None => entry.clone(),
    }
}

/// dbt's `synthesize_generic_test_names`: `<test>_<node>_<args...>`, and when that is
/// 64 characters or more, a short name of its first 30 characters and an md5 of the full
/// name (for file names and relation aliases). Returns (short name, full name).
pub fn synthesize_test_names(
    test_type: &str,
    node_part: &str,
    args: &serde_json::Map<String, Value>,
) -> (String, String) {
    let mut keys: Vec<&String> = args.keys().filter(|k| *k != "model").collect();
    keys.sort();
    let mut flat = Vec::new();
    for key in keys {
        match &args[key] {
            Value::Object(map) => flat.extend(map.values().map(python_str)),
            Value::Array(items) => flat.extend(items.iter().map(python_str)),
            other => flat.push(python_str(other)),
        }
    }
    let clean: Vec<String> = flat.iter().map(|a| clean_name_part(a)).collect();
    let identifier = format!("{test_type}_{node_part}");
    let full = format!("{identifier}_{}", clean.join("__"));
    if full.len() >= 64 {
        let truncated: String = identifier.chars().take(30).collect();
        (format!("{truncated}_{}", md5_hex(&full)), full)
    } else {
        (full.clone(), full)
    }
}

/// `re.sub("[^0-9a-zA-Z_]+", "_", text)`.
fn clean_name_part(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_run = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    }
    out
}

/// Python's `str()` of a YAML value, which dbt puts in test names.
fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("'{k}': {}", python_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn python_repr(value: &Value) -> String {
    match value {
        Value::String(s) => format!("'{s}'"),
        other => python_str(other),
    }
}

fn md5_hex(text: &str) -> String {
    let digest = Md5::digest(text.as_bytes());
    let mut hex = String::with_capacity(32);
    for byte in digest.iter() {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// The last 10 hex digits of an md5 over the name and the test's metadata, as the
/// suffix of a generic test's unique id, computed as dbt does so that ids (and state
/// comparisons across tools) agree.
fn test_hash(name: &str, metadata: &TestMetadata) -> String {
    let mut described = serde_json::Map::new();
    described.insert("kwargs".into(), Value::Object(metadata.kwargs.clone()));
    described.insert("name".into(), Value::from(metadata.name.clone()));
    described.insert(
        "namespace".into(),
        metadata.namespace.clone().map_or(Value::Null, Value::from),
    );
    let hex = md5_hex(&format!(
        "{name}{}",
        hashable_repr(&Value::Object(described))
    ));
    hex[hex.len() - 10..].to_string()
}

/// Python's `repr()` of a value whose dict keys are sorted and whose scalars are turned to
/// their `str()`: the text dbt hashes for a generic test.
fn hashable_repr(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let items: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}: {}", python_string_repr(k), hashable_repr(&map[k])))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(hashable_repr)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        scalar => python_string_repr(&python_str(scalar)),
    }
}

/// Python's `repr()` of a string: single quotes unless the text holds a single quote and
/// no double one, backslash escapes for the quote, `\\` and control characters.
fn python_string_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A node name in single quotes, as dbt writes `ref('name')` into a test's kwargs (and so
/// into its hash); a name no quotes can hold is escaped as a Jinja literal.
fn quoted_name(name: &str) -> String {
    if name.contains(['\'', '\\']) {
        jinja_string(name)
    } else {
        format!("'{name}'")
    }
}

/// A string as a Jinja string literal.
fn jinja_string(text: &str) -> String {
    Value::from(text).to_string()
}

/// An argument as Jinja: `ref('x')` / `source('a', 'b')` stay expressions (so the test
/// depends on that node, as `relationships` needs), everything else is a literal.
fn jinja_literal(value: &Value) -> String {
    match value {
        Value::String(s) if is_relation_call(s) => s.trim().to_string(),
        // dbt renders the Jinja in a test's arguments in the test's context.
        Value::String(s) if s.contains("{{") || s.contains("{%") => {
            format!("{}({value})", mart_jinja::RENDER_STRING_FN)
        }
        Value::Null => "none".into(),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(jinja_literal)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", jinja_string(k), jinja_literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

fn is_relation_call(text: &str) -> bool {
    let text = text.trim();
    (text.starts_with("ref(") || text.starts_with("source(")) && text.ends_with(')')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(value: Value) -> serde_json::Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn test_names_follow_dbt() {
        assert_eq!(
            synthesize_test_names(
                "not_null",
                "dim_user",
                &args(json!({"column_name": "user_id"}))
            )
            .0,
            "not_null_dim_user_user_id"
        );
        assert_eq!(
            synthesize_test_names(
                "accepted_values",
                "dim_user",
                &args(json!({"column_name": "variant_id", "values": ["control", "test"]}))
            )
            .0,
            "accepted_values_dim_user_variant_id__control__test"
        );
        assert_eq!(
            synthesize_test_names(
                "relationships",
                "dim_user",
                &args(json!({"column_name": "user_id", "to": "ref('dim_user_variant')", "field": "user_id"}))
            )
            .0,
            "relationships_dim_user_user_id__user_id__ref_dim_user_variant_"
        );
        let (short, full) = synthesize_test_names(
            "accepted_values",
            "fact_user_event",
            &args(json!({"column_name": "clicked", "values": [0, 1], "quote": false})),
        );
        assert_eq!(full, "accepted_values_fact_user_event_clicked__False__0__1");
        assert_eq!(short, full);
        let (short, full) = synthesize_test_names(
            "accepted_values",
            "dim_user_metadata",
            &args(
                json!({"column_name": "age", "values": ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]}),
            ),
        );
        assert_eq!(
            full,
            "accepted_values_dim_user_metadata_age__18_24__25_34__35_44__45_54__55_64__65_"
        );
        assert_eq!(
            short,
            format!("accepted_values_dim_user_metad_{}", md5_hex(&full))
        );
        assert_eq!(short.len(), 63);
    }

    #[test]
    fn test_hashes_are_dbt_s() {
        // Unique ids dbt-core 1.10 gave these tests (scripts/suites/dbt_parity/project).
        let hash = |name: &str, test: &str, kwargs: Value| {
            let kwargs = args(kwargs);
            test_hash(
                name,
                &TestMetadata {
                    name: test.into(),
                    namespace: None,
                    kwargs,
                },
            )
        };
        let model = |m: &str| format!("{{{{ get_where_subquery(ref('{m}')) }}}}");
        assert_eq!(
            hash(
                "unique_stg_orders_id",
                "unique",
                json!({"column_name": "id", "model": model("stg_orders")})
            ),
            "beb6e97f2f"
        );
        assert_eq!(
            hash(
                "accepted_values_customer_totals_total_cents__False__3050__1725__0__300",
                "accepted_values",
                json!({"column_name": "total_cents", "model": model("customer_totals"),
                       "quote": false, "values": [3050, 1725, 0, 300]})
            ),
            "714b21b17e"
        );
        assert_eq!(
            hash(
                "relationships_stg_orders_customer_id__id__ref_stg_customers_",
                "relationships",
                json!({"column_name": "customer_id", "model": model("stg_orders"),
                       "to": "ref('stg_customers')", "field": "id"})
            ),
            "c4293d696a"
        );
        assert_eq!(python_string_repr("it's"), "\"it's\"");
        assert_eq!(python_string_repr("a'\"b\n"), "'a\\'\"b\\n'");
    }

    #[test]
    fn declarations_split_arguments_and_configs() {
        let p = parse_declaration(&json!({"dbt_utils.expression_is_true": {
            "expression": "a > 0", "severity": "warn", "config": {"where": "b = 1"}, "name": "a_positive"
        }}))
        .unwrap();
        assert_eq!(p.namespace.as_deref(), Some("dbt_utils"));
        assert_eq!(p.test, "expression_is_true");
        assert_eq!(p.custom_name.as_deref(), Some("a_positive"));
        assert_eq!(p.args, args(json!({"expression": "a > 0"})));
        assert_eq!(p.config["severity"], "warn");
        assert_eq!(p.config["where"], "b = 1");
        let p = parse_declaration(&json!("unique")).unwrap();
        assert!(p.args.is_empty() && p.test == "unique");
        assert!(parse_declaration(&json!(3)).is_err());
    }

    #[test]
    fn relation_arguments_are_read_without_rendering() {
        let owner = Dependency::Ref(RefCall {
            package: None,
            name: "a".into(),
            version: None,
        });
        let found = static_dependencies(
            &owner,
            &args(json!({"to": "source('raw', \"t\")", "field": "id", "other": "ref('p', 'b')"})),
        )
        .unwrap();
        let text: Vec<String> = found.iter().map(|d| format!("{d:?}")).collect();
        assert_eq!(text.len(), 3);
        assert!(text[1].contains("package: Some(\"p\")") && text[1].contains("\"b\""));
        assert!(text[2].contains("source: \"raw\"") && text[2].contains("table: \"t\""));
        // A computed name needs the render.
        assert!(static_dependencies(&owner, &args(json!({"to": "ref('a' ~ x)"}))).is_none());
    }

    #[test]
    fn arguments_become_jinja() {
        assert_eq!(jinja_literal(&json!("ref('dim_user')")), "ref('dim_user')");
        assert_eq!(
            jinja_literal(&json!(["it's", 1, null, true])),
            r#"["it's", 1, none, true]"#
        );
    }
}

//! The Jinja environment mart renders models with (minijinja), with dbt's context:
//! `ref`, `source`, `config`, `var`, `env_var`, `this`, `target`, `is_incremental`,
//! `run_query`, `adapter`, `log`, `print`, `exceptions`, `return` and project macros
//! callable by name from any model or macro.
//!
//! A render reads a [`RenderScope`] and records its `ref`/`source`/`config` calls there;
//! the compiler decides what they mean. No files, graph or database here: queries go
//! through the [`QueryRunner`] a caller supplies.

mod adapter;
mod agate;
mod api;
mod args;
mod column;
mod docs;
mod errors;
mod flags;
mod functions;
mod invocation;
pub mod line_marks;
mod macro_calls;
mod macro_defaults;
mod macros;
mod materialization;
mod namespaces;
pub mod python;
mod query;
mod relation;
mod scope;
mod statement;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use mart_diagnostics::{Diagnostic, Diagnostics, SourceFile, Span};
use mart_project::MacroFile;
use minijinja::value::Value;
use minijinja::Environment;

use crate::namespaces::{MacroDef, MacroRef, PackageNamespace, Registry};
pub use docs::DocLookup;
pub use invocation::GraphBuilder;
pub use materialization::{MaterializationChoice, MaterializationError};
pub use namespaces::INTERNAL_PACKAGE;
pub use query::{QueryRunner, QueryTable};
pub use relation::{EventTimeFilter, Policy, RelationType, RelationValue};
pub use scope::{
    BatchWindow, Phase, Recorded, RefCall, RenderScope, ResolvedRef, Resolver, SourceCall,
    StatementOutcome, UnitTestRender,
};

/// What every render of a project shares.
#[derive(Clone, Debug, Default)]
pub struct EnvSettings {
    pub project_name: String,
    /// The `target` variable: name, schema, type, threads, dbname, host, user, port...
    pub target: serde_json::Value,
    /// Vars: command-line values over project.yml values.
    pub vars: serde_json::Map<String, serde_json::Value>,
    /// The vars a package's nodes see, by package (the root project's are `vars`).
    pub package_vars: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
    /// The root project's `dispatch:`: macro namespace -> the packages to search.
    pub dispatch: BTreeMap<String, Vec<String>>,
    /// The command's id (also in its artifacts) and start time, for `invocation_id` and
    /// `run_started_at`; the environment's creation when not given.
    pub invocation_id: String,
    pub run_started_at: Option<std::time::SystemTime>,
    /// dbt's flag `require_explicit_package_overrides_for_builtin_materializations`
    /// turned off (`flags:` of the project file): an installed package's `table` block
    /// replaces the built-in one.
    pub package_materialization_overrides: bool,
}

/// The environment: globals, filters and the project's macros.
pub struct JinjaEnv {
    env: Environment<'static>,
    /// Template name -> file, to point errors at the user's file.
    files: HashMap<String, Arc<SourceFile>>,
    registry: Arc<Registry>,
    flags: Arc<flags::Flags>,
    invocation: Arc<invocation::Invocation>,
    /// dbt's macros that the root project's nodes get as dbt wrote them (see
    /// [`JinjaEnv::is_builtin_macro`]), computed once: relation naming asks per node.
    builtin: std::collections::HashSet<String>,
    /// The names materialization blocks define (see [`JinjaEnv::materialization_names`]).
    materializations: Vec<String>,
    package_materialization_overrides: bool,
}

/// The function that renders a string as a template in the caller's context; the
/// compiler wraps generic test arguments holding Jinja in it.
pub const RENDER_STRING_FN: &str = "__mart_render";

/// dbt macros mart implements as native functions (package `dbt`): a node's
/// `depends_on.macros` lists them when its SQL calls them, as dbt's does.
pub const NATIVE_MACROS: [&str; 2] = ["is_incremental", "run_query"];

/// Where mart's built-in macros (dbt's generic tests) say they come from.
pub const BUILTIN_MACRO_PATH: &str = "<mart>/generic_tests.sql";

/// dbt's macro library (`builtin/dbt/`), as `(path, text)`.
macro_rules! dbt_library {
    ($($file:literal),* $(,)?) => {
        [$((concat!("<mart>/dbt/", $file), include_str!(concat!("builtin/dbt/", $file)))),*]
    };
}

/// mart's built-in macros: dbt's generic tests and macro library, in the `dbt` package.
fn builtin_macro_files() -> Vec<MacroFile> {
    let library = dbt_library!(
        "aggregates.sql",
        "arrays.sql",
        "casts.sql",
        "columns.sql",
        "configs.sql",
        "dates.sql",
        "ddl.sql",
        "materializations.sql",
        "naming.sql",
        "relations.sql",
        "series.sql",
        "sets.sql",
        "strings.sql",
        "timestamps.sql",
        "types.sql",
    );
    [(
        BUILTIN_MACRO_PATH,
        include_str!("builtin/generic_tests.sql"),
    )]
    .into_iter()
    .chain(library)
    .map(|(path, text)| MacroFile {
        package: INTERNAL_PACKAGE.to_string(),
        file: Arc::new(SourceFile::new(path, text)),
    })
    .collect()
}

impl JinjaEnv {
    /// Builds the environment and registers every macro of `macro_files` by name.
    pub fn new(settings: &EnvSettings, macro_files: &[MacroFile]) -> Result<Self, Diagnostics> {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
        // dbt never escapes output; minijinja would by file name (JSON for `.yml`).
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        functions::register(&mut env, settings);
        python::register(&mut env);
        env.add_global("target", Value::from_serialize(&settings.target));
        env.add_global("project_name", Value::from(settings.project_name.clone()));
        let mut files = HashMap::new();
        let registry = Arc::new(load_macros(
            &mut env,
            &mut files,
            settings,
            macro_files.iter().chain(&builtin_macro_files()),
        )?);
        for (package, macros) in &registry.packages {
            for name in macros.keys() {
                env.add_global(
                    name.clone(),
                    Value::from_object(MacroRef {
                        registry: registry.clone(),
                        package: None,
                        name: name.clone(),
                    }),
                );
            }
            env.add_global(
                package.clone(),
                Value::from_object(PackageNamespace {
                    registry: registry.clone(),
                    package: package.clone(),
                }),
            );
        }
        adapter::register(&mut env, registry.clone());
        let flags = Arc::new(flags::Flags::default());
        env.add_global("flags", Value::from_dyn_object(flags.clone()));
        let invocation = invocation::register(
            &mut env,
            &settings.invocation_id,
            settings
                .run_started_at
                .unwrap_or_else(std::time::SystemTime::now),
        );
        let builtin = registry
            .packages
            .get(INTERNAL_PACKAGE)
            .into_iter()
            .flat_map(|macros| macros.keys())
            .filter(|name| {
                [
                    name.to_string(),
                    format!("default__{name}"),
                    format!("postgres__{name}"),
                ]
                .iter()
                .all(|n| {
                    matches!(
                        registry.resolve_bare(None, n),
                        Some(INTERNAL_PACKAGE) | None
                    )
                })
            })
            .cloned()
            .collect();
        Ok(Self {
            env,
            files,
            materializations: materialization::defined_names(&registry),
            registry,
            flags,
            invocation,
            builtin,
            package_materialization_overrides: settings.package_materialization_overrides,
        })
    }

    /// `selected_resources`: the unique ids the command selected.
    pub fn set_selected_resources(&self, ids: Vec<String>) {
        self.invocation.set_selected(ids);
    }

    /// What `graph` holds, built the first time a template reads it.
    pub fn set_graph(&self, builder: invocation::GraphBuilder) {
        self.invocation.set_graph(builder);
    }

    /// Sets dbt's `flags` for this invocation (`FULL_REFRESH`, `WHICH`, ...); the ones
    /// not given keep dbt's defaults.
    pub fn set_flags(&self, flags: serde_json::Map<String, serde_json::Value>) {
        self.flags.set(flags);
    }

    /// The package whose macro a node of `package` (none: the root project) reaches by
    /// `namespace.name` or, without a namespace, by the bare name.
    pub fn macro_package<'a>(
        &'a self,
        package: Option<&'a str>,
        namespace: Option<&'a str>,
        name: &str,
    ) -> Option<&'a str> {
        match namespace {
            Some(ns) => self.registry.get(ns, name).map(|_| ns),
            None => self.registry.resolve_bare(package, name),
        }
    }

    /// Whether the root project's nodes get dbt's own `name` (none of `name`,
    /// `default__name`, `postgres__name` is defined outside dbt's library), so that its
    /// known result may be computed without rendering it.
    pub fn is_builtin_macro(&self, name: &str) -> bool {
        self.builtin.contains(name)
    }

    /// Unique ids of the macros that `body`, the text of macro `package.name`, calls (read
    /// without rendering it, as dbt fills a macro's `depends_on.macros`).
    pub fn macro_dependencies(&self, package: &str, name: &str, body: &str) -> Vec<String> {
        macro_calls::macro_dependencies(&self.registry, package, name, body)
    }

    /// Every macro: package, name and the file defining it.
    pub fn macros(&self) -> impl Iterator<Item = (&str, &str, &Arc<SourceFile>)> + '_ {
        self.registry.packages.iter().flat_map(|(package, macros)| {
            macros
                .iter()
                .map(move |(name, def)| (package.as_str(), name.as_str(), &def.file))
        })
    }

    /// Renders a node's file with the given scope; errors point at the file and line.
    pub fn render(
        &self,
        file: &Arc<SourceFile>,
        scope: &Arc<RenderScope>,
    ) -> Result<String, Diagnostic> {
        let name = template_name(file);
        let text = python::rewrite_literals(&file.text).text;
        let template = self
            .env
            .template_from_named_str(&name, &text)
            .map_err(|e| errors::to_diagnostic(&e, &self.files, Some(file)))?;
        template
            .render(context(scope))
            .map_err(|e| errors::to_diagnostic(&e, &self.files, Some(file)))
    }

    /// Renders a node's file with every template line marked (see [`line_marks`]), to
    /// trace a place of its output back to the line that wrote it.
    pub fn render_marked(
        &self,
        file: &Arc<SourceFile>,
        scope: &Arc<RenderScope>,
    ) -> Result<String, Diagnostic> {
        let marked = Arc::new(SourceFile::new(
            file.path.clone(),
            line_marks::mark_lines(&file.text),
        ));
        self.render(&marked, scope)
    }

    /// Renders one expression (such as a macro call) for `scope`, with extra variables.
    /// Used for overridable macros like generate_schema_name.
    pub fn render_expression(
        &self,
        expression: &str,
        variables: &[(&str, Value)],
        scope: &Arc<RenderScope>,
    ) -> Result<String, Diagnostic> {
        let source = format!("{{{{ {expression} }}}}");
        let template = self
            .env
            .template_from_named_str("<expression>", &source)
            .map_err(|e| errors::to_diagnostic(&e, &self.files, None))?;
        let mut entries: Vec<(&str, Value)> = variables.to_vec();
        entries.extend(context_entries(scope));
        template
            .render(Value::from_iter(entries))
            .map(|s| s.trim().to_string())
            .map_err(|e| errors::to_diagnostic(&e, &self.files, None))
    }

    /// The macro a run-operation names, `name` or `package.name`: its package, or an
    /// error naming the closest macro.
    fn resolve_operation<'a>(&'a self, name: &'a str) -> Result<(&'a str, &'a str), Diagnostic> {
        let (namespace, bare) = match name.split_once('.') {
            Some((ns, bare)) => (Some(ns), bare),
            None => (None, name),
        };
        if let Some(package) = self.macro_package(None, namespace, bare) {
            return Ok((package, bare));
        }
        let diagnostic = Diagnostic::error(
            mart_diagnostics::Code::TemplateRender,
            format!("no macro named '{name}' in this project"),
        );
        let known: Vec<String> = self
            .macros()
            .map(|(package, macro_name, _)| match namespace {
                Some(_) => format!("{package}.{macro_name}"),
                None => macro_name.to_string(),
            })
            .collect();
        Err(
            match mart_diagnostics::closest_name(name, known.iter().map(String::as_str)) {
                Some(close) => diagnostic.with_help(format!("did you mean '{close}'?")),
                None => diagnostic
                    .with_help("define it with {% macro name(...) %} in a file under macro-paths"),
            },
        )
    }

    /// An error naming the closest macro unless `name` (or `package.name`) resolves.
    pub fn check_macro(&self, name: &str) -> Result<(), Diagnostic> {
        self.resolve_operation(name).map(|_| ())
    }

    /// Calls the macro `name` (or `package.name`) with keyword arguments, as
    /// `dbt run-operation` does; its output is discarded, what it runs and logs is what
    /// counts. Errors point at the place in the macro's file.
    pub fn call_macro(
        &self,
        name: &str,
        args: &serde_json::Map<String, serde_json::Value>,
        scope: &Arc<RenderScope>,
    ) -> Result<(), Diagnostic> {
        let (package, bare) = self.resolve_operation(name)?;
        let file = self.registry.get(package, bare).map(|d| d.file.clone());
        self.render_expression(
            &format!("{package}.{bare}(**{MACRO_ARGS})"),
            &[(MACRO_ARGS, Value::from_serialize(args))],
            scope,
        )
        .map(|_| ())
        .map_err(|d| match (&d.span, file) {
            // An error of the call itself (an unknown or missing argument): show the
            // macro's definition, whose parameters the arguments must match.
            (None, Some(file)) => Diagnostic {
                message: format!("calling macro '{name}': {}", d.message),
                ..d
            }
            .with_span(macros::macro_span(&file, bare)),
            _ => d,
        })
    }

    /// Renders a value written in a property file (a source's schema, say), as dbt renders
    /// YAML: `target`, `var()`, `env_var()` and project macros work, node functions such as
    /// `ref()` do not. Text without Jinja comes back unchanged. Errors point at the value
    /// in `file`.
    pub fn render_property(
        &self,
        file: &Arc<SourceFile>,
        text: &str,
    ) -> Result<String, Diagnostic> {
        if !text.contains("{{") && !text.contains("{%") {
            return Ok(text.to_string());
        }
        let name = template_name(file);
        self.env
            .render_named_str(&name, &python::rewrite_literals(text).text, ())
            .map_err(|e| property_error(&e, &self.files, file, text))
    }
}

/// Adds every macro file as a template and collects its macros by package; a name
/// defined twice in one package is an error.
fn load_macros<'a>(
    env: &mut Environment<'static>,
    files: &mut HashMap<String, Arc<SourceFile>>,
    settings: &EnvSettings,
    macro_files: impl Iterator<Item = &'a MacroFile>,
) -> Result<Registry, Diagnostics> {
    let mut errors = Diagnostics::default();
    let mut registry = Registry {
        root: settings.project_name.clone(),
        packages: BTreeMap::new(),
        dispatch: settings
            .dispatch
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    registry
        .packages
        .entry(settings.project_name.clone())
        .or_default();
    registry
        .packages
        .entry(INTERNAL_PACKAGE.to_string())
        .or_default();
    for MacroFile { package, file } in macro_files {
        let name = template_name(file);
        files.insert(name.clone(), file.clone());
        let text = macros::prepare_macro_source(&file.text);
        let text = python::rewrite_literals(&text).text.into_owned();
        if let Err(e) = env.add_template_owned(name.clone(), text.clone()) {
            errors.push(errors::to_diagnostic(&e, files, Some(file)));
            continue;
        }
        let names = match macros::macro_names(env, &name, &text) {
            Ok(names) => names,
            Err(e) => {
                errors.push(errors::to_diagnostic(&e, files, Some(file)));
                continue;
            }
        };
        let catch_all = text.contains("varargs") || text.contains("kwargs");
        let macros = registry.packages.entry(package.clone()).or_default();
        for macro_name in names {
            if let Some(first) = macros.get(&macro_name) {
                errors.push(macros::duplicate_macro(&macro_name, file, &first.file));
                continue;
            }
            macros.insert(
                macro_name,
                MacroDef {
                    template: name.clone(),
                    file: file.clone(),
                    catch_all,
                },
            );
        }
    }
    if errors.has_errors() {
        return Err(errors);
    }
    Ok(registry)
}

/// A property value's render error, its span moved from the value to the file.
fn property_error(
    error: &minijinja::Error,
    files: &HashMap<String, Arc<SourceFile>>,
    file: &Arc<SourceFile>,
    text: &str,
) -> Diagnostic {
    let in_macro = error.name().is_some_and(|n| files.contains_key(n));
    let diagnostic = errors::to_diagnostic(error, files, None);
    if in_macro {
        return diagnostic;
    }
    match file.text.find(text) {
        Some(start) => {
            let range = error
                .range()
                .filter(|r| r.end <= text.len())
                .map_or(start..start + text.len(), |r| {
                    start + r.start..start + r.end
                });
            diagnostic.with_span(Span::new(file.clone(), range))
        }
        None => diagnostic.with_path(&file.path),
    }
}

/// The variable holding run-operation's keyword arguments.
const MACRO_ARGS: &str = "__mart_macro_args";

/// Templates are named by their file path so minijinja errors name the file.
fn template_name(file: &SourceFile) -> String {
    file.path.to_string_lossy().replace('\\', "/")
}

fn context_entries(scope: &Arc<RenderScope>) -> Vec<(&'static str, Value)> {
    let this_cte = scope.unit_test.as_ref().and_then(|u| u.this_cte.clone());
    let this = match (this_cte, scope.this.clone()) {
        (Some(cte), _) => RelationValue::ephemeral(cte).into_value(),
        (None, Some(r)) => RelationValue::new(r).into_value(),
        (None, None) => Value::from(()),
    };
    vec![
        (functions::SCOPE_KEY, Value::from_dyn_object(scope.clone())),
        ("this", this),
        ("model", Value::from_serialize(&scope.model)),
        ("execute", Value::from(scope.phase == Phase::Compile)),
    ]
}

fn context(scope: &Arc<RenderScope>) -> Value {
    let mut entries: Vec<(String, Value)> = scope
        .variables
        .iter()
        .map(|(k, v)| (k.clone(), Value::from_serialize(v)))
        .collect();
    entries.extend(
        context_entries(scope)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v)),
    );
    Value::from_iter(entries)
}

#[cfg(test)]
mod tests;

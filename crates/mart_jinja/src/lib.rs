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
mod errors;
mod functions;
mod macros;
mod query;
mod relation;
mod scope;
mod statement;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use mart_diagnostics::{Diagnostic, Diagnostics, SourceFile, Span};
use minijinja::value::Value;
use minijinja::Environment;

pub use query::{QueryRunner, QueryTable};
pub use relation::{Policy, RelationType, RelationValue};
pub use scope::{Phase, Recorded, RefCall, RenderScope, ResolvedRef, Resolver, SourceCall};

/// What every render of a project shares.
#[derive(Clone, Debug, Default)]
pub struct EnvSettings {
    pub project_name: String,
    /// The `target` variable: name, schema, type, threads, dbname, host, user, port...
    pub target: serde_json::Value,
    /// Vars: command-line values over project.yml values.
    pub vars: serde_json::Map<String, serde_json::Value>,
}

/// The environment: globals, filters and the project's macros.
pub struct JinjaEnv {
    env: Environment<'static>,
    /// Template name -> file, to point errors at the user's file.
    files: HashMap<String, Arc<SourceFile>>,
    /// Macro name -> the file that defines it.
    macros: BTreeMap<String, Arc<SourceFile>>,
}

/// Where mart's built-in macros (dbt's generic tests) say they come from.
pub const BUILTIN_MACRO_PATH: &str = "<mart>/generic_tests.sql";

impl JinjaEnv {
    /// Builds the environment and registers every macro of `macro_files` by name.
    pub fn new(
        settings: &EnvSettings,
        macro_files: &[Arc<SourceFile>],
    ) -> Result<Self, Diagnostics> {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
        // dbt never escapes output; minijinja would by file name (JSON for `.yml`).
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        functions::register(&mut env, settings.vars.clone());
        env.add_global("target", Value::from_serialize(&settings.target));
        env.add_global("project_name", Value::from(settings.project_name.clone()));
        let mut jinja = Self {
            env,
            files: HashMap::new(),
            macros: BTreeMap::new(),
        };
        jinja.add_macros(macro_files)?;
        Ok(jinja)
    }

    fn add_macros(&mut self, macro_files: &[Arc<SourceFile>]) -> Result<(), Diagnostics> {
        let mut errors = Diagnostics::default();
        let builtin = Arc::new(SourceFile::new(
            BUILTIN_MACRO_PATH,
            include_str!("builtin/generic_tests.sql"),
        ));
        for file in macro_files.iter().chain(std::iter::once(&builtin)) {
            let is_builtin = Arc::ptr_eq(file, &builtin);
            let name = template_name(file);
            self.files.insert(name.clone(), file.clone());
            let text = macros::prepare_macro_source(&file.text).into_owned();
            if let Err(e) = self.env.add_template_owned(name.clone(), text.clone()) {
                errors.push(errors::to_diagnostic(&e, &self.files, Some(file)));
                continue;
            }
            let names = match macros::macro_names(&self.env, &name, &text) {
                Ok(names) => names,
                Err(e) => {
                    errors.push(errors::to_diagnostic(&e, &self.files, Some(file)));
                    continue;
                }
            };
            for macro_name in names {
                if let Some(first) = self.macros.get(&macro_name) {
                    // A project macro replaces the built-in one of the same name.
                    if !is_builtin {
                        errors.push(macros::duplicate_macro(&macro_name, file, first));
                    }
                    continue;
                }
                macros::register(&mut self.env, &name, &macro_name);
                self.macros.insert(macro_name, file.clone());
            }
        }
        if errors.has_errors() {
            return Err(errors);
        }
        Ok(())
    }

    pub fn has_macro(&self, name: &str) -> bool {
        self.macros.contains_key(name)
    }

    /// Whether `name` is one of mart's own macros (not replaced by the project).
    pub fn is_builtin_macro(&self, name: &str) -> bool {
        self.macros
            .get(name)
            .is_some_and(|f| f.path.as_os_str() == BUILTIN_MACRO_PATH)
    }

    /// Every macro by name, with the file defining it ([`BUILTIN_MACRO_PATH`] for mart's own).
    pub fn macros(&self) -> impl Iterator<Item = (&str, &Arc<SourceFile>)> + '_ {
        self.macros.iter().map(|(name, file)| (name.as_str(), file))
    }

    /// Renders a node's file with the given scope; errors point at the file and line.
    pub fn render(
        &self,
        file: &Arc<SourceFile>,
        scope: &Arc<RenderScope>,
    ) -> Result<String, Diagnostic> {
        let name = template_name(file);
        let template = self
            .env
            .template_from_named_str(&name, &file.text)
            .map_err(|e| errors::to_diagnostic(&e, &self.files, Some(file)))?;
        template
            .render(context(scope))
            .map_err(|e| errors::to_diagnostic(&e, &self.files, Some(file)))
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

    /// An error naming the closest macro unless the project defines `name`.
    pub fn check_macro(&self, name: &str) -> Result<(), Diagnostic> {
        if self.has_macro(name) {
            return Ok(());
        }
        let diagnostic = Diagnostic::error(
            mart_diagnostics::Code::TemplateRender,
            format!("no macro named '{name}' in this project"),
        );
        Err(
            match mart_diagnostics::closest_name(name, self.macros.keys().map(String::as_str)) {
                Some(close) => diagnostic.with_help(format!("did you mean '{close}'?")),
                None => diagnostic
                    .with_help("define it with {% macro name(...) %} in a file under macro-paths"),
            },
        )
    }

    /// Calls the project macro `name` with keyword arguments, as `dbt run-operation`
    /// does; its output is discarded, what it runs and logs is what counts. Errors point
    /// at the place in the macro's file.
    pub fn call_macro(
        &self,
        name: &str,
        args: &serde_json::Map<String, serde_json::Value>,
        scope: &Arc<RenderScope>,
    ) -> Result<(), Diagnostic> {
        self.check_macro(name)?;
        self.render_expression(
            &format!("{name}(**{MACRO_ARGS})"),
            &[(MACRO_ARGS, Value::from_serialize(args))],
            scope,
        )
        .map(|_| ())
        .map_err(|d| match (&d.span, self.macros.get(name)) {
            // An error of the call itself (an unknown or missing argument): show the
            // macro's definition, whose parameters the arguments must match.
            (None, Some(file)) => Diagnostic {
                message: format!("calling macro '{name}': {}", d.message),
                ..d
            }
            .with_span(macros::macro_span(file, name)),
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
            .render_named_str(&name, text, ())
            .map_err(|e| property_error(&e, &self.files, file, text))
    }
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
    let this = scope
        .this
        .clone()
        .map_or(Value::from(()), |r| RelationValue::new(r).into_value());
    vec![
        (functions::SCOPE_KEY, Value::from_dyn_object(scope.clone())),
        ("this", this),
        ("model", Value::from_serialize(&scope.model)),
        ("execute", Value::from(scope.phase == Phase::Compile)),
    ]
}

fn context(scope: &Arc<RenderScope>) -> Value {
    Value::from_iter(context_entries(scope))
}

#[cfg(test)]
mod tests;

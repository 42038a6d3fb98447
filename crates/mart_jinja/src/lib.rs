//! The Jinja environment mart renders models with (minijinja), with dbt's context:
//! `ref`, `source`, `config`, `var`, `env_var`, `this`, `target`, `is_incremental`,
//! `run_query`, `adapter`, `log`, `print`, `exceptions`, `return` and project macros
//! callable by name from any model or macro.
//!
//! A render reads a [`RenderScope`] and records its `ref`/`source`/`config` calls there;
//! the compiler decides what they mean. No files, graph or database here: queries go
//! through the [`QueryRunner`] a caller supplies.

mod errors;
mod functions;
mod macros;
mod query;
mod relation;
mod scope;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use mart_diagnostics::{Diagnostic, Diagnostics, SourceFile};
use minijinja::value::Value;
use minijinja::Environment;

pub use query::{QueryRunner, QueryTable};
pub use relation::RelationValue;
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
    macros: BTreeSet<String>,
}

impl JinjaEnv {
    /// Builds the environment and registers every macro of `macro_files` by name.
    pub fn new(
        settings: &EnvSettings,
        macro_files: &[Arc<SourceFile>],
    ) -> Result<Self, Diagnostics> {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
        functions::register(&mut env, settings.vars.clone());
        env.add_global("target", Value::from_serialize(&settings.target));
        env.add_global("project_name", Value::from(settings.project_name.clone()));
        let mut jinja = Self {
            env,
            files: HashMap::new(),
            macros: BTreeSet::new(),
        };
        jinja.add_macros(macro_files)?;
        Ok(jinja)
    }

    fn add_macros(&mut self, macro_files: &[Arc<SourceFile>]) -> Result<(), Diagnostics> {
        let mut errors = Diagnostics::default();
        let mut defined: HashMap<String, Arc<SourceFile>> = HashMap::new();
        for file in macro_files {
            let name = template_name(file);
            self.files.insert(name.clone(), file.clone());
            if let Err(e) = self
                .env
                .add_template_owned(name.clone(), file.text.to_string())
            {
                errors.push(errors::to_diagnostic(&e, &self.files, Some(file)));
                continue;
            }
            let names = match macros::macro_names(&self.env, &name, &file.text) {
                Ok(names) => names,
                Err(e) => {
                    errors.push(errors::to_diagnostic(&e, &self.files, Some(file)));
                    continue;
                }
            };
            for macro_name in names {
                if let Some(first) = defined.get(&macro_name) {
                    errors.push(macros::duplicate_macro(&macro_name, file, first));
                    continue;
                }
                defined.insert(macro_name.clone(), file.clone());
                macros::register(&mut self.env, &name, &macro_name);
                self.macros.insert(macro_name);
            }
        }
        if errors.has_errors() {
            return Err(errors);
        }
        Ok(())
    }

    pub fn has_macro(&self, name: &str) -> bool {
        self.macros.contains(name)
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
}

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

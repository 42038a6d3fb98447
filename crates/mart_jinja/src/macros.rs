//! Project macros, callable by bare name from any template (dbt's global macro namespace).

use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic, SourceFile};
use minijinja::value::{Object, Value};
use minijinja::{Environment, Error, ErrorKind, State};

use crate::functions::{scope, RETURN_MARKER, SCOPE_KEY};

/// The macros a file defines: names declared with `{% macro name(...) %}` that its
/// module exports once evaluated (so macros inside other blocks are not counted).
pub(crate) fn macro_names(
    env: &Environment<'static>,
    template: &str,
    source: &str,
) -> Result<Vec<String>, Error> {
    let tmpl = env.get_template(template)?;
    let module = tmpl.render_captured(())?;
    let exports = module.state().exports();
    let mut names: Vec<String> = declared_macros(source)
        .into_iter()
        .filter(|n| exports.contains(&n.as_str()))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// Names following `macro` at the start of a `{% ... %}` tag.
fn declared_macros(source: &str) -> Vec<String> {
    source
        .split("{%")
        .skip(1)
        .filter_map(|tag| {
            let rest = tag
                .trim_start_matches(['-', '+'])
                .trim_start()
                .strip_prefix("macro")?;
            if !rest.starts_with(char::is_whitespace) {
                return None;
            }
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty()).then_some(name)
        })
        .collect()
}

pub(crate) fn register(env: &mut Environment<'static>, template: &str, name: &str) {
    env.add_global(
        name.to_string(),
        Value::from_object(MacroFn {
            template: template.to_string(),
            name: name.to_string(),
        }),
    );
}

pub(crate) fn duplicate_macro(
    name: &str,
    file: &Arc<SourceFile>,
    first: &Arc<SourceFile>,
) -> Diagnostic {
    Diagnostic::error(
        Code::TemplateRender,
        format!("macro '{name}' is defined twice"),
    )
    .with_span(macro_span(file, name))
    .with_label(macro_span(first, name), "first defined here")
    .with_help("rename or remove one of the definitions")
}

fn macro_span(file: &Arc<SourceFile>, name: &str) -> mart_diagnostics::Span {
    let needle = format!("macro {name}");
    let start = file.text.find(&needle).map_or(0, |i| i + "macro ".len());
    mart_diagnostics::Span::new(file.clone(), start..start + name.len())
}

/// A macro global: evaluates its file and calls the macro with the caller's scope, so
/// `ref`, `this` and `config` mean the same inside it as in the calling model.
#[derive(Debug)]
struct MacroFn {
    template: String,
    name: String,
}

/// Context names forwarded from the caller into the macro's module.
const FORWARDED: [&str; 4] = [SCOPE_KEY, "this", "model", "execute"];

impl Object for MacroFn {
    fn call(self: &Arc<Self>, state: &State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let tmpl = state.env().get_template(&self.template)?;
        let context = Value::from_iter(
            FORWARDED
                .iter()
                .filter_map(|k| state.lookup(k).map(|v| (*k, v))),
        );
        let captured = tmpl.render_captured(context)?;
        let module = captured.state();
        let Some(macro_value) = module.lookup(&self.name) else {
            return Err(Error::new(
                ErrorKind::UnknownFunction,
                format!(
                    "macro '{}' is no longer defined in {}",
                    self.name, self.template
                ),
            ));
        };
        match macro_value.call(module, args) {
            Ok(value) => Ok(value),
            Err(e) if e.detail() == Some(RETURN_MARKER) => {
                let returned = scope(state)?
                    .returned
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take();
                Ok(returned.unwrap_or(Value::from(())))
            }
            Err(e) => Err(e),
        }
    }
}

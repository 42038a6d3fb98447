//! dbt's macro namespaces. Every macro belongs to a package: the root project, an
//! installed package, or `dbt` (mart's built-in library, embedded in the binary). A bare
//! name resolves in the rendering node's own package, then the root project, then `dbt`;
//! `package.name` names one package; `adapter.dispatch(name, namespace)` picks
//! `postgres__name` or `default__name` along the project's `dispatch:` search order.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use mart_diagnostics::SourceFile;
use minijinja::value::{Kwargs, Object, Value};
use minijinja::{Error, ErrorKind, State};

use crate::functions::{scope, RETURN_MARKER, SCOPE_KEY};

/// The package of dbt's own macros (and of mart's built-in generic tests).
pub const INTERNAL_PACKAGE: &str = "dbt";

/// The adapter prefixes `adapter.dispatch` tries, most specific first.
const DISPATCH_PREFIXES: [&str; 2] = ["postgres", "default"];

/// One macro: the template (file) that defines it.
#[derive(Debug)]
pub(crate) struct MacroDef {
    pub template: String,
    pub file: Arc<SourceFile>,
    /// Whether its file mentions `varargs` / `kwargs`, dbt's catch-all arguments.
    pub catch_all: bool,
}

/// Every macro by package and name, and the project's dispatch search orders.
pub(crate) struct Registry {
    pub root: String,
    pub packages: BTreeMap<String, BTreeMap<String, MacroDef>>,
    /// `dispatch:` of the root project file: macro namespace -> packages to search.
    pub dispatch: HashMap<String, Vec<String>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl Registry {
    pub fn get(&self, package: &str, name: &str) -> Option<&MacroDef> {
        self.packages.get(package)?.get(name)
    }

    /// The packages a bare name is looked up in, in order: the node's own, the root
    /// project, then dbt's library.
    fn bare_search_order<'a>(&'a self, local: Option<&'a str>) -> Vec<&'a str> {
        let mut order: Vec<&str> = Vec::with_capacity(3);
        for package in [local, Some(self.root.as_str()), Some(INTERNAL_PACKAGE)]
            .into_iter()
            .flatten()
        {
            if !order.contains(&package) {
                order.push(package);
            }
        }
        order
    }

    /// Where a bare macro name leads for a node of package `local`.
    pub fn resolve_bare<'a>(&'a self, local: Option<&'a str>, name: &str) -> Option<&'a str> {
        self.bare_search_order(local)
            .into_iter()
            .find(|p| self.get(p, name).is_some())
    }

    /// Packages other than the searched ones that define `name`: for "did you mean".
    fn defined_elsewhere(&self, name: &str) -> Vec<&str> {
        self.packages
            .iter()
            .filter(|(_, macros)| macros.contains_key(name))
            .map(|(p, _)| p.as_str())
            .collect()
    }

    fn names_in(&self, package: &str) -> impl Iterator<Item = &str> {
        self.packages
            .get(package)
            .into_iter()
            .flat_map(|m| m.keys().map(String::as_str))
    }
}

/// A macro as templates call it: a bare name (resolved when called, for the calling
/// node's package) or a name in one package.
#[derive(Debug)]
pub(crate) struct MacroRef {
    pub registry: Arc<Registry>,
    pub package: Option<String>,
    pub name: String,
}

impl Object for MacroRef {
    fn call(self: &Arc<Self>, state: &State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let registry = &self.registry;
        let package = match &self.package {
            Some(package) => package.clone(),
            None => {
                let local = local_package(state);
                match registry.resolve_bare(local.as_deref(), &self.name) {
                    Some(found) => found.to_string(),
                    None => return Err(not_visible(registry, &self.name)),
                }
            }
        };
        let Some(def) = registry.get(&package, &self.name) else {
            return Err(unknown_in_package(registry, &package, &self.name));
        };
        call_macro(state, def, &package, &self.name, args)
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "name" => Some(Value::from(self.name.clone())),
            "package_name" => self.package.clone().map(Value::from),
            _ => None,
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<macro {}>", self.name)
    }
}

/// `package.macro_name`: one package's macros as attributes.
#[derive(Debug)]
pub(crate) struct PackageNamespace {
    pub registry: Arc<Registry>,
    pub package: String,
}

impl Object for PackageNamespace {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        // An unknown name is undefined (for `is defined`); calling it names the closest.
        self.registry.get(&self.package, name)?;
        Some(Value::from_object(MacroRef {
            registry: self.registry.clone(),
            package: Some(self.package.clone()),
            name: name.to_string(),
        }))
    }

    /// `package.name(...)` is a method call in minijinja.
    fn call_method(
        self: &Arc<Self>,
        state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match self.registry.get(&self.package, method) {
            Some(def) => call_macro(state, def, &self.package, method, args),
            None => Err(unknown_in_package(&self.registry, &self.package, method)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<namespace {}>", self.package)
    }
}

/// The package of the node being rendered; none for the root project or outside a node.
fn local_package(state: &State) -> Option<String> {
    scope(state).ok().and_then(|s| s.package.clone())
}

fn not_visible(registry: &Registry, name: &str) -> Error {
    let elsewhere = registry.defined_elsewhere(name);
    let message = match elsewhere.first() {
        Some(package) => format!(
            "macro '{name}' is defined in package '{package}', not in this project; call it as {package}.{name}()"
        ),
        None => format!("no macro named '{name}'"),
    };
    Error::new(ErrorKind::UnknownFunction, message)
}

fn unknown_in_package(registry: &Registry, package: &str, name: &str) -> Error {
    let suggestion = mart_diagnostics::closest_name(name, registry.names_in(package))
        .map(|s| format!("; did you mean {package}.{s}?"))
        .unwrap_or_default();
    Error::new(
        ErrorKind::UnknownFunction,
        format!("package '{package}' has no macro named '{name}'{suggestion}"),
    )
}

/// Context names forwarded from the caller into the macro's module (the materialization
/// ones are set only while a block runs; `results`, `schemas`, `database_schemas` are
/// on-run-end's).
pub(crate) const FORWARDED: [&str; 13] = [
    SCOPE_KEY,
    "this",
    "model",
    "execute",
    "sql",
    "compiled_code",
    "pre_hooks",
    "post_hooks",
    "database",
    "schema",
    "results",
    "schemas",
    "database_schemas",
];

/// Evaluates the macro's file with the caller's context (so `ref`, `this` and `config`
/// mean the same inside it as in the calling node) and calls the macro. Positional
/// arguments past its parameters become `varargs`, unknown keyword arguments `kwargs`,
/// as in dbt, when the macro's file uses them.
pub(crate) fn call_macro(
    state: &State<'_, '_>,
    def: &MacroDef,
    package: &str,
    name: &str,
    args: &[Value],
) -> Result<Value, Error> {
    let render = scope(state).ok();
    if let Some(render) = &render {
        render.note_macro_call(package, name);
    }
    let _depth = render.as_ref().map(|r| r.enter_macro());
    let tmpl = state.env().get_template(&def.template)?;
    let mut context: Vec<(&str, Value)> = FORWARDED
        .iter()
        .filter_map(|k| state.lookup(k).map(|v| (*k, v)))
        .collect();
    if def.catch_all {
        context.push(("varargs", Value::from(Vec::<Value>::new())));
        context.push(("kwargs", Value::from_iter(Vec::<(String, Value)>::new())));
    }
    let mut captured = tmpl.render_captured(Value::from_iter(context.clone()))?;
    let mut call_args = with_rendered_caller(state, args)?;
    if def.catch_all {
        let macro_value = macro_in(captured.state(), def, name)?;
        if let Some((rest, varargs, kwargs)) = split_catch_all(&macro_value, &call_args) {
            context.truncate(context.len() - 2);
            context.push(("varargs", Value::from(varargs)));
            context.push(("kwargs", Value::from_iter(kwargs)));
            call_args = rest;
            captured = tmpl.render_captured(Value::from_iter(context))?;
        }
    }
    let module = captured.state();
    let macro_value = macro_in(module, def, name)?;
    match macro_value.call(module, &call_args) {
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

/// A `{% call %}` block's body belongs to the calling template, which minijinja lets no
/// other template call: the body is rendered here, in the caller's state, and the macro
/// gets a `caller()` that returns the text.
fn with_rendered_caller(state: &State, args: &[Value]) -> Result<Vec<Value>, Error> {
    let Some(kwargs) = args.last().and_then(kwargs_of) else {
        return Ok(args.to_vec());
    };
    let Ok(caller) = kwargs.get::<Value>("caller") else {
        return Ok(args.to_vec());
    };
    let body = caller.call(state, &[])?;
    let entries = kwargs.args().filter_map(|key| {
        let value = if key == "caller" {
            Value::from_object(RenderedCaller(body.to_string()))
        } else {
            kwargs.get::<Value>(key).ok()?
        };
        Some((key.to_string(), value))
    });
    let mut out = args[..args.len() - 1].to_vec();
    out.push(Kwargs::from_iter(entries.collect::<Vec<_>>()).into());
    Ok(out)
}

/// `caller()` inside a macro of another file: the block's rendered body.
#[derive(Debug)]
struct RenderedCaller(String);

impl Object for RenderedCaller {
    fn call(self: &Arc<Self>, _state: &State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        if !args.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "caller() with arguments, from a macro of another file, is not supported by mart; pass the values as macro arguments instead",
            ));
        }
        Ok(Value::from(self.0.clone()))
    }
}

fn macro_in(module: &State, def: &MacroDef, name: &str) -> Result<Value, Error> {
    module
        .lookup(&format!("{}{name}", crate::macros::DEFINED_PREFIX))
        .ok_or_else(|| {
            Error::new(
                ErrorKind::UnknownFunction,
                format!("macro '{name}' is no longer defined in {}", def.template),
            )
        })
}

/// The keyword arguments of a call, when its last argument holds them.
fn kwargs_of(value: &Value) -> Option<Kwargs> {
    value
        .is_kwargs()
        .then(|| Kwargs::try_from(value.clone()).ok())
        .flatten()
}

type CatchAll = (Vec<Value>, Vec<Value>, Vec<(String, Value)>);

/// The arguments the macro's parameters take, then the extra positional and keyword
/// ones; none when every argument has a parameter.
fn split_catch_all(macro_value: &Value, args: &[Value]) -> Option<CatchAll> {
    let params: Vec<String> = macro_value
        .get_attr("arguments")
        .ok()?
        .try_iter()
        .ok()?
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let (positional, kwargs) = match args.last().and_then(kwargs_of) {
        Some(kwargs) => (&args[..args.len() - 1], Some(kwargs)),
        None => (args, None),
    };
    let extra_positional = positional.len().saturating_sub(params.len());
    let mut named = Vec::new();
    let mut extra_named = Vec::new();
    if let Some(kwargs) = &kwargs {
        for key in kwargs.args() {
            let Ok(value) = kwargs.get::<Value>(key) else {
                continue;
            };
            if params.iter().any(|p| p == key) || key == "caller" {
                named.push((key.to_string(), value));
            } else {
                extra_named.push((key.to_string(), value));
            }
        }
    }
    if extra_positional == 0 && extra_named.is_empty() {
        return None;
    }
    let taken = positional.len() - extra_positional;
    let mut rest: Vec<Value> = positional[..taken].to_vec();
    if !named.is_empty() {
        rest.push(Kwargs::from_iter(named).into());
    }
    Some((rest, positional[taken..].to_vec(), extra_named))
}

/// `adapter.dispatch(macro_name, macro_namespace=None)`: the first of
/// `<package>.postgres__<name>`, `<package>.default__<name>` over the search order.
pub(crate) fn dispatch(
    registry: &Arc<Registry>,
    state: &State,
    args: &[Value],
) -> Result<Value, Error> {
    let (positional, kwargs) = match args.last().and_then(kwargs_of) {
        Some(kwargs) => (&args[..args.len() - 1], Some(kwargs)),
        None => (args, None),
    };
    let kwarg = |key: &str| -> Result<Option<Value>, Error> {
        match &kwargs {
            Some(k) => k.get::<Option<Value>>(key),
            None => Ok(None),
        }
    };
    let macro_name =
        match positional.first().cloned().or(kwarg("macro_name")?) {
            Some(v) if v.as_str().is_some() => v.to_string(),
            _ => return Err(Error::new(
                ErrorKind::MissingArgument,
                "adapter.dispatch() takes a macro name: adapter.dispatch('my_macro', 'my_package')",
            )),
        };
    if macro_name.contains('.') {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("adapter.dispatch('{macro_name}'): the macro name must not contain a dot; pass the package as macro_namespace"),
        ));
    }
    if kwarg("packages")?.is_some_and(|p| !p.is_none()) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "adapter.dispatch(): `packages` was removed in dbt 0.20; use macro_namespace and the project's dispatch: config",
        ));
    }
    let namespace = positional
        .get(1)
        .cloned()
        .or(kwarg("macro_namespace")?)
        .filter(|v| !v.is_none())
        .map(|v| v.to_string());
    let local = local_package(state);
    match dispatch_target(registry, local.as_deref(), &macro_name, namespace.as_deref()) {
        Ok((package, name)) => Ok(Value::from_object(MacroRef {
            registry: registry.clone(),
            package: Some(package),
            name,
        })),
        Err(DispatchMiss::UnknownNamespace(ns)) => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("In dispatch: macro namespace '{ns}' is not a package of this project; install it with `mart deps` or fix the name"),
        )),
        Err(DispatchMiss::NotFound(attempts)) => Err(Error::new(
            ErrorKind::UnknownFunction,
            format!(
                "In dispatch: no macro named '{macro_name}' found within namespace '{}'; searched for {}",
                namespace.as_deref().unwrap_or("None"),
                attempts.join(", ")
            ),
        )),
    }
}

/// Why `adapter.dispatch` found no macro.
pub(crate) enum DispatchMiss {
    UnknownNamespace(String),
    /// The names tried, quoted, in order.
    NotFound(Vec<String>),
}

/// The (package, macro) `adapter.dispatch(macro_name, namespace)` leads to for a node of
/// package `local`: the first of `postgres__<name>`, `default__<name>` over the search
/// order (the project's `dispatch:` for the namespace, else the root then the namespace).
pub(crate) fn dispatch_target(
    registry: &Registry,
    local: Option<&str>,
    macro_name: &str,
    namespace: Option<&str>,
) -> Result<(String, String), DispatchMiss> {
    let search: Vec<Option<String>> = match namespace {
        None => vec![None],
        Some(ns) => match registry.dispatch.get(ns) {
            Some(order) => order.iter().cloned().map(Some).collect(),
            None if registry.packages.contains_key(ns) => {
                vec![Some(registry.root.clone()), Some(ns.to_string())]
            }
            None => return Err(DispatchMiss::UnknownNamespace(ns.to_string())),
        },
    };
    let mut attempts = Vec::new();
    for package in &search {
        for prefix in DISPATCH_PREFIXES {
            let name = format!("{prefix}__{macro_name}");
            let found = match package {
                None => registry.resolve_bare(local, &name),
                Some(p) => registry.get(p, &name).map(|_| p.as_str()),
            };
            attempts.push(match package {
                None => format!("'{name}'"),
                Some(p) => format!("'{p}.{name}'"),
            });
            if let Some(found) = found {
                return Ok((found.to_string(), name));
            }
        }
    }
    Err(DispatchMiss::NotFound(attempts))
}

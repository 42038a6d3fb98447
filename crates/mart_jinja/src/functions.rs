//! The global functions and objects of dbt's Jinja context.

use std::sync::Arc;

use mart_adapter::Relation;
use mart_project::{normalize_key, ConfigMap};
use minijinja::value::{from_args, Kwargs, Object, Rest, Value};
use minijinja::{Environment, Error, ErrorKind, State};

use crate::namespaces::INTERNAL_PACKAGE;
use crate::query::{QueryTable, TableValue};
use crate::relation::RelationValue;
use crate::scope::{Phase, RefCall, RenderScope, ResolvedRef, SourceCall};

/// The context key the per-render scope travels under.
pub(crate) const SCOPE_KEY: &str = "__mart_scope";
/// Marks the error `return()` raises to unwind to the calling macro.
pub(crate) const RETURN_MARKER: &str = "__mart_return__";

pub(crate) fn scope(state: &State<'_, '_>) -> Result<Arc<RenderScope>, Error> {
    state
        .lookup(SCOPE_KEY)
        .and_then(|v| v.downcast_object::<RenderScope>())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                "this function is only available while rendering a node",
            )
        })
}

pub(crate) fn register(env: &mut Environment<'static>, settings: &crate::EnvSettings) {
    env.add_function("ref", ref_fn);
    env.add_function("source", source_fn);
    env.add_function("is_incremental", |state: &State| -> Result<bool, Error> {
        let scope = scope(state)?;
        scope.note_macro_call(INTERNAL_PACKAGE, "is_incremental");
        Ok(scope.is_incremental)
    });
    let vars = Arc::new(settings.vars.clone());
    let package_vars = Arc::new(settings.package_vars.clone());
    // The default is taken as given, so `var('x', none)` is none rather than "not set".
    // A package's nodes see the vars resolved for their package.
    env.add_function("var", move |state: &State, name: String, default: Rest<Value>| -> Result<Value, Error> {
        let scope = scope(state).ok();
        if let Some(value) = scope.as_ref().and_then(|s| s.unit_test.as_ref()?.vars.get(&name)) {
            return Ok(Value::from_serialize(value));
        }
        let package = scope.and_then(|s| s.package.clone());
        let vars = package
            .and_then(|p| package_vars.get(&p))
            .unwrap_or(&vars);
        match vars.get(&name) {
            Some(value) => Ok(Value::from_serialize(value)),
            None => default.first().cloned().ok_or_else(|| {
                Error::new(
                    ErrorKind::UndefinedError,
                    format!("required var '{name}' is not set; pass it with --vars '{{{name}: ...}}', set it under vars: in the project file, or give var() a default"),
                )
            }),
        }
    });
    env.add_function(
        "env_var",
        |state: &State, name: String, default: Option<String>| {
            let overridden = scope(state)
                .ok()
                .and_then(|s| s.unit_test.as_ref()?.env_vars.get(&name).cloned());
            match overridden {
                Some(value) => Ok(value),
                None => mart_project::env_var(&name, default.as_deref()),
            }
        },
    );
    env.add_function("run_query", run_query);
    env.add_function(crate::RENDER_STRING_FN, render_string);
    // dbt's `render()`, which run_hooks uses on each hook's SQL.
    env.add_function("render", render_string);
    env.add_function("statement", crate::statement::statement);
    env.add_function("load_result", crate::statement::load_result);
    // dbt: a hook wrapped in these runs outside the node's transaction.
    for name in ["before_begin", "after_commit"] {
        env.add_function(name, |sql: String| {
            Value::from_serialize(serde_json::json!({"sql": sql, "transaction": false}))
        });
    }
    env.add_function(
        "log",
        |state: &State, msg: Value, kwargs: Kwargs| -> Result<String, Error> {
            let info: Option<bool> = kwargs.get("info")?;
            if info.unwrap_or(false) {
                scope(state)?.record().logs.push(msg.to_string());
            }
            Ok(String::new())
        },
    );
    env.add_function(
        "print",
        |state: &State, msg: Value| -> Result<String, Error> {
            scope(state)?.record().logs.push(msg.to_string());
            Ok(String::new())
        },
    );
    env.add_function(
        "return",
        |state: &State, value: Value| -> Result<String, Error> {
            *scope(state)?
                .returned
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(value);
            Err(Error::new(ErrorKind::InvalidOperation, RETURN_MARKER))
        },
    );
    env.add_global("config", Value::from_object(ConfigObject));
    env.add_global("exceptions", Value::from_object(Exceptions));
    mart_project::add_type_filters(env);
}

fn ref_fn(state: &State, args: Rest<String>, kwargs: Kwargs) -> Result<Value, Error> {
    // `ref('m', v=2)` / `ref('m', version='2')`: a version of a versioned model.
    let v: Option<Value> = kwargs.get("v")?;
    let long: Option<Value> = kwargs.get("version")?;
    kwargs.assert_all_used()?;
    let version = v
        .or(long)
        .filter(|v| !v.is_none() && !v.is_undefined())
        .map(|v| v.to_string());
    let (package, name) = match args.as_slice() {
        [name] => (None, name.clone()),
        [package, name] => (Some(package.clone()), name.clone()),
        _ => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "ref() takes a model name, or a package and a model name: ref('dim_user'), \
                 and optionally a version: ref('dim_user', v=2)",
            ))
        }
    };
    let scope = scope(state)?;
    let call = RefCall {
        package,
        name,
        version,
    };
    scope.record().refs.push(call.clone());
    match scope.phase {
        // Dependencies are what matters here; the relation is a stand-in.
        Phase::Parse => Ok(placeholder(&scope, &call.name)),
        Phase::Compile => {
            let resolver = scope.resolver.as_ref().ok_or_else(no_resolver)?;
            match resolver.resolve_ref(&call, scope.package.as_deref()) {
                Some(ResolvedRef::Relation(relation)) => {
                    let event_time = resolver.ref_event_time(&call, scope.package.as_deref());
                    Ok(input_relation(&scope, relation, event_time))
                }
                Some(ResolvedRef::Ephemeral { cte_name }) => {
                    Ok(RelationValue::ephemeral(cte_name).into_value())
                }
                None => Err(unknown(
                    format!("ref('{}') names no model, seed or snapshot", call.name),
                    &call.name,
                    &resolver.ref_names(),
                )),
            }
        }
    }
}

fn source_fn(state: &State, source: String, table: String) -> Result<Value, Error> {
    let scope = scope(state)?;
    let call = SourceCall { source, table };
    scope.record().sources.push(call.clone());
    match scope.phase {
        Phase::Parse => Ok(placeholder(&scope, &call.table)),
        Phase::Compile => {
            let resolver = scope.resolver.as_ref().ok_or_else(no_resolver)?;
            resolver
                .resolve_source_ref(&call)
                .map(|r| match r {
                    ResolvedRef::Relation(r) => {
                        input_relation(&scope, r, resolver.source_event_time(&call))
                    }
                    ResolvedRef::Ephemeral { cte_name } => {
                        RelationValue::ephemeral(cte_name).into_value()
                    }
                })
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidOperation,
                        format!(
                            "source('{}', '{}') is not declared in any property file",
                            call.source, call.table
                        ),
                    )
                })
        }
    }
}

/// A relation a ref() or source() reads; with `--empty`, zero rows of it; in a
/// microbatch model's batch, when it has an `event_time`, the batch's rows of it.
fn input_relation(scope: &RenderScope, relation: Relation, event_time: Option<String>) -> Value {
    let mut value = RelationValue::new(relation);
    if scope.empty_inputs {
        value = value.emptied();
    }
    if let (Some(batch), Some(field)) = (&scope.batch, event_time) {
        value = value.filtered(crate::relation::EventTimeFilter {
            field,
            start: batch.start.clone(),
            end: batch.end.clone(),
        });
    }
    value.into_value()
}

fn placeholder(scope: &RenderScope, name: &str) -> Value {
    let schema = scope
        .this
        .as_ref()
        .map(|t| t.schema.clone())
        .unwrap_or_default();
    RelationValue::new(Relation::new(None, schema, name)).into_value()
}

fn no_resolver() -> Error {
    Error::new(ErrorKind::InvalidOperation, "ref() cannot be resolved here")
}

fn unknown(message: String, name: &str, known: &[String]) -> Error {
    let suggestion = mart_diagnostics::closest_name(name, known.iter().map(String::as_str))
        .map(|s| format!("; did you mean '{s}'?"))
        .unwrap_or_default();
    Error::new(
        ErrorKind::InvalidOperation,
        format!("{message}{suggestion}"),
    )
}

/// Renders `text` as a template in the caller's context: what dbt does with a generic
/// test's arguments that hold Jinja (`expression: "x = {{ dbt_date.day_of_month('d') }}"`).
fn render_string(state: &State, text: String) -> Result<String, Error> {
    let context = Value::from_iter(
        crate::namespaces::FORWARDED
            .iter()
            .filter_map(|k| state.lookup(k).map(|v| (*k, v))),
    );
    let text = crate::python::rewrite_literals(&text).text;
    state.env().render_str(&text, context)
}

fn run_query(state: &State, sql: String) -> Result<Value, Error> {
    let scope = scope(state)?;
    // Macros in dbt, so dependencies of the nodes that call them.
    scope.note_macro_call(INTERNAL_PACKAGE, "run_query");
    query(&scope, &sql)
        .map(|t| t.map_or(Value::from(()), |t| Value::from_object(TableValue::new(&t))))
}

/// Runs `sql` when the render may touch the database; `None` while parsing (dbt's
/// `execute` is false then).
pub(crate) fn query(scope: &RenderScope, sql: &str) -> Result<Option<QueryTable>, Error> {
    if scope.phase == Phase::Parse {
        return Ok(None);
    }
    let runner = scope.query_runner.as_ref().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            "run_query() needs a database connection, which this command does not open",
        )
    })?;
    runner.run_query(sql).map(Some).map_err(|e| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("run_query failed: {e}"),
        )
    })
}

/// `config(...)` records configs; `config.get(key, default)` reads the node's config.
#[derive(Debug)]
struct ConfigObject;

impl Object for ConfigObject {
    fn call(self: &Arc<Self>, state: &State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let scope = scope(state)?;
        let mut map = ConfigMap::new();
        for arg in args {
            let json: serde_json::Value = serde_json::to_value(arg).map_err(|e| {
                Error::new(ErrorKind::InvalidOperation, format!("config() value: {e}"))
            })?;
            match json {
                serde_json::Value::Object(entries) => {
                    map.extend(entries.into_iter().map(|(k, v)| (normalize_key(&k), v)));
                }
                // dbt: config() takes keyword arguments or one mapping.
                other => {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        format!(
                            "config() takes keyword arguments or a mapping, not {other}: write config(materialized='table')"
                        ),
                    ))
                }
            }
        }
        scope.record().configs.push(map);
        Ok(Value::from(""))
    }

    fn call_method(
        self: &Arc<Self>,
        state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let scope = scope(state)?;
        match method {
            "get" | "require" => {
                // `config.get(key, default)` or `config.get(key, default=...)`.
                let (key, default, kwargs): (String, Option<Value>, Kwargs) = from_args(args)?;
                let default = match kwargs.get::<Option<Value>>("default")? {
                    Some(value) => Some(value),
                    None => default,
                };
                kwargs.assert_all_used()?;
                let key = normalize_key(&key);
                let recorded = scope
                    .record()
                    .configs
                    .iter()
                    .rev()
                    .find_map(|c| c.get(&key).cloned());
                match recorded.or_else(|| scope.config.get(&key).cloned()) {
                    Some(v) => Ok(Value::from_serialize(&v)),
                    None if method == "require" => Err(Error::new(
                        ErrorKind::InvalidOperation,
                        format!("config '{key}' is required for this node; set it in config() or the property file"),
                    )),
                    None => Ok(default.unwrap_or(Value::from(()))),
                }
            }
            // dbt's `config.set(key, value)` (what `set_sql_header` calls): as config().
            "set" => {
                let (key, value): (String, Value) = from_args(args)?;
                let json = serde_json::to_value(&value).map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidOperation,
                        format!("config.set() value: {e}"),
                    )
                })?;
                scope
                    .record()
                    .configs
                    .push(ConfigMap::from([(normalize_key(&key), json)]));
                Ok(Value::from(""))
            }
            // persist_docs: {relation: true, columns: true}, as dbt's materializations ask.
            "persist_relation_docs" | "persist_column_docs" => {
                let key = if method == "persist_relation_docs" {
                    "relation"
                } else {
                    "columns"
                };
                let recorded = scope
                    .record()
                    .configs
                    .iter()
                    .rev()
                    .find_map(|c| c.get("persist_docs").cloned());
                let docs = recorded.or_else(|| scope.config.get("persist_docs").cloned());
                Ok(Value::from(
                    docs.and_then(|d| d.get(key).and_then(serde_json::Value::as_bool))
                        .unwrap_or(false),
                ))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

#[derive(Debug)]
struct Exceptions;

impl Object for Exceptions {
    fn call_method(
        self: &Arc<Self>,
        state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (message,): (String,) = from_args(args)?;
        match method {
            "raise_compiler_error" => Err(Error::new(ErrorKind::InvalidOperation, message)),
            "warn" => {
                scope(state)?
                    .record()
                    .logs
                    .push(format!("warning: {message}"));
                Ok(Value::from(""))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

//! Python's behaviour where dbt's Jinja relies on it: mutable lists and dicts (literals
//! rewritten into constructor calls, see [`rewrite`]), datetime arithmetic (`+ - *`
//! rewritten into calls, see [`operators`] and [`arith`]), Python's methods on strings, lists
//! and dicts, and the globals of dbt's context that are Python functions and modules
//! (`modules`, `fromjson`, `tojson`, `fromyaml`, `toyaml`, `zip`, `set`, `local_md5`,
//! `dbt_version`).
//!
//! [`register`] sets it up on an environment; every template's source must go through
//! [`rewrite_literals`] before minijinja reads it.

mod arith;
mod convert;
mod datetime;
mod dict;
mod expression;
mod filters;
mod globals;
mod list;
mod modules;
mod operators;
mod regex;
mod rewrite;
mod timezone;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_arith;
#[cfg(test)]
mod tests_globals;
#[cfg(test)]
mod tests_operators;

use std::sync::Arc;

use minijinja::value::{Kwargs, Object, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};

pub use convert::{is_python, to_python};
pub use datetime::PyDateTime;
pub use dict::PyDict;
pub use list::{PyList, PySet};
pub use rewrite::{rewrite_literals, Rewritten};

use list::invalid;

/// Registers the constructors the rewritten literals call, Python's methods, the `list`
/// and `sort` filters returning mutable lists, and dbt's Python globals.
pub fn register(env: &mut Environment<'static>) {
    env.add_function(rewrite::LIST_FN, |items: Rest<Value>| {
        PyList::value(items.0)
    });
    env.add_function(rewrite::DICT_FN, dict_literal);
    env.set_unknown_method_callback(python_method);
    env.add_filter("list", |state: &State, value: Value| {
        minijinja::filters::list(state, value).map(shallow_list)
    });
    env.add_filter("sort", |state: &State, value: Value, kwargs: Kwargs| {
        minijinja::filters::sort(state, value, kwargs).map(shallow_list)
    });
    env.add_filter(rewrite::PERCENT_FILTER, percent_format);
    arith::register(env);
    globals::register(env);
    filters::register(env);
    env.add_global("modules", Value::from_object(modules::Modules));
}

/// `__mart_dict(k1, v1, k2, v2, ...)`: what `{k1: v1, k2: v2}` was rewritten to.
fn dict_literal(items: Rest<Value>) -> Result<Value, Error> {
    if !items.len().is_multiple_of(2) {
        return Err(invalid(
            "a dict literal needs a value for every key: {key: value}",
        ));
    }
    let mut entries = indexmap::IndexMap::with_capacity(items.len() / 2);
    let mut items = items.0.into_iter();
    while let (Some(key), Some(value)) = (items.next(), items.next()) {
        entries.insert(key, value);
    }
    Ok(PyDict::value(entries))
}

/// `'text' % args`: Python's printf formatting; a tuple (a plain sequence) gives the
/// arguments, anything else (a list included, as in Python) is the one argument.
fn percent_format(text: &str, args: Value) -> Result<String, Error> {
    let args: Vec<Value> = if args.kind() == ValueKind::Seq && !is_python(&args) {
        args.try_iter()?.collect()
    } else {
        vec![args]
    };
    minijinja::format_filter(minijinja::FormatStyle::Printf, text, &args)
}

/// A sequence's items as a new mutable list (not deep: items stay as they are).
fn shallow_list(value: Value) -> Value {
    match value.try_iter() {
        Ok(items) => PyList::value(items.collect()),
        Err(_) => value,
    }
}

/// Methods that change a list or dict in place.
const MUTATING: [&str; 11] = [
    "append",
    "extend",
    "insert",
    "pop",
    "remove",
    "reverse",
    "sort",
    "clear",
    "update",
    "setdefault",
    "popitem",
];

/// The unknown-method callback: Python's methods on values minijinja has none for. mart's
/// own lists and dicts answer their methods before this is called; here plain sequences
/// and maps (from `var()`, the context or filters) get the non-mutating ones of lists
/// and dicts, then minijinja-contrib's pycompat answers the rest (strings above all).
fn python_method(
    state: &State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    let plain_seq =
        matches!(value.kind(), ValueKind::Seq | ValueKind::Iterable) && !is_python(value);
    let plain_map = value.kind() == ValueKind::Map && !is_python(value);
    if (plain_seq || plain_map) && MUTATING.contains(&method) {
        let what = if plain_seq { "list" } else { "dict" };
        return Err(invalid(format!(
            "{method}() cannot change this {what}: it did not come from a literal in a template (values from var(), config, the context and most filters are read-only in mart); copy it first, e.g. {{% set x = x.copy() %}}"
        )));
    }
    if plain_seq && matches!(method, "index" | "copy") {
        let items: Vec<Value> = value.try_iter()?.collect();
        return Arc::new(PyList::new(items)).call_method(state, method, args);
    }
    if plain_map && method == "copy" {
        let () = minijinja::value::from_args(args)?;
        return Ok(PyDict::value(
            dict::entries_of(value)?.into_iter().collect(),
        ));
    }
    if value.kind() == ValueKind::String {
        if let Some(result) = string_method(value, method, args) {
            return result;
        }
    }
    let result = minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args);
    match method {
        // Python's split() returns a list, which templates go on to change.
        "split" | "splitlines" => result.map(shallow_list),
        _ => result.map_err(|e| {
            if e.kind() == ErrorKind::UnknownMethod && e.detail().is_none() {
                Error::new(
                    ErrorKind::UnknownMethod,
                    format!("{} has no method {method}() in mart", value.kind()),
                )
            } else {
                e
            }
        }),
    }
}

/// String methods pycompat lacks; `None` for the others.
fn string_method(value: &Value, method: &str, args: &[Value]) -> Option<Result<Value, Error>> {
    let s = value.as_str()?;
    let run = || -> Result<Value, Error> {
        match method {
            "zfill" => {
                let (width,): (usize,) = minijinja::value::from_args(args)?;
                let (sign, digits) = match s.strip_prefix(['-', '+']) {
                    Some(rest) => (&s[..1], rest),
                    None => ("", s),
                };
                let pad = width.saturating_sub(s.chars().count());
                Ok(Value::from(format!("{sign}{}{digits}", "0".repeat(pad))))
            }
            "removeprefix" => {
                let (prefix,): (&str,) = minijinja::value::from_args(args)?;
                Ok(Value::from(s.strip_prefix(prefix).unwrap_or(s)))
            }
            "removesuffix" => {
                let (suffix,): (&str,) = minijinja::value::from_args(args)?;
                Ok(Value::from(s.strip_suffix(suffix).unwrap_or(s)))
            }
            "rsplit" => {
                let (sep, max): (Option<&str>, Option<i64>) = minijinja::value::from_args(args)?;
                let max = max.filter(|m| *m >= 0).map(|m| m as usize);
                let mut parts: Vec<Value> = match (sep, max) {
                    (Some(sep), Some(max)) => s.rsplitn(max + 1, sep).map(Value::from).collect(),
                    (Some(sep), None) => s.rsplit(sep).map(Value::from).collect(),
                    (None, _) => s.split_whitespace().rev().map(Value::from).collect(),
                };
                parts.reverse();
                Ok(PyList::value(parts))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    };
    match run() {
        Err(e) if e.kind() == ErrorKind::UnknownMethod => None,
        other => Some(other),
    }
}

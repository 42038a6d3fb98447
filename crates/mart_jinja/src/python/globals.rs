//! dbt's context functions that are Python functions: `fromjson`, `tojson`, `fromyaml`,
//! `toyaml`, `zip`, `try_zip`, `set`, `try_set`, `local_md5` and the `dbt_version` value.
//! As in dbt, the forgiving ones return their `default` (none unless given) where Python
//! would raise; the `try_` ones raise.

use std::io;

use md5::{Digest, Md5};
use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error};

use super::convert::PyValue;
use super::list::{invalid, PySet};

use mart_project::DBT_VERSION;

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_global("dbt_version", Value::from(DBT_VERSION));
    env.add_function(
        "fromjson",
        |text: String, default: Option<Value>, kwargs: Kwargs| {
            let default = default_arg(default, &kwargs)?;
            Ok::<_, Error>(
                serde_json::from_str::<PyValue>(&text)
                    .map(|v| v.0)
                    .unwrap_or(default),
            )
        },
    );
    env.add_function(
        "fromyaml",
        |text: String, default: Option<Value>, kwargs: Kwargs| {
            let default = default_arg(default, &kwargs)?;
            Ok::<_, Error>(
                serde_yaml::from_str::<PyValue>(&text)
                    .map(|v| v.0)
                    .unwrap_or(default),
            )
        },
    );
    env.add_function(
        "tojson",
        |value: Value, default: Option<Value>, kwargs: Kwargs| {
            let default = default_arg(default, &kwargs)?;
            let sort_keys = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(false);
            Ok::<_, Error>(to_json(&value, sort_keys).map_or(default, Value::from))
        },
    );
    env.add_function(
        "toyaml",
        |value: Value, default: Option<Value>, kwargs: Kwargs| {
            let default = default_arg(default, &kwargs)?;
            let sort_keys = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(false);
            Ok::<_, Error>(to_yaml(&value, sort_keys).map_or(default, Value::from))
        },
    );
    env.add_function("zip", |args: Rest<Value>, kwargs: Kwargs| {
        let default = default_arg(None, &kwargs)?;
        Ok::<_, Error>(zip(&args).unwrap_or(default))
    });
    env.add_function("try_zip", |args: Rest<Value>| {
        zip(&args)
            .ok_or_else(|| invalid("try_zip(): every argument must be a list or another iterable"))
    });
    env.add_function("set", |value: Value, kwargs: Kwargs| {
        let default = default_arg(None, &kwargs)?;
        Ok::<_, Error>(to_set(&value).unwrap_or(default))
    });
    env.add_function("try_set", |value: Value| {
        to_set(&value)
            .ok_or_else(|| invalid(format!("try_set(): {} is not iterable", value.kind())))
    });
    env.add_function("local_md5", |text: String| {
        let digest = Md5::digest(text.as_bytes());
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    });
}

fn default_arg(positional: Option<Value>, kwargs: &Kwargs) -> Result<Value, Error> {
    let named: Option<Value> = kwargs.get("default")?;
    Ok(positional.or(named).unwrap_or(Value::from(())))
}

fn is_iterable(value: &Value) -> bool {
    matches!(
        value.kind(),
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable | ValueKind::String
    )
}

/// Python's `zip`: tuples of the i-th items, as long as the shortest argument; `None` when
/// an argument is not iterable.
fn zip(args: &[Value]) -> Option<Value> {
    if !args.iter().all(is_iterable) {
        return None;
    }
    let columns: Vec<Vec<Value>> = args
        .iter()
        .map(|a| a.try_iter().map(Iterator::collect))
        .collect::<Result<_, _>>()
        .ok()?;
    let len = columns.iter().map(Vec::len).min().unwrap_or(0);
    Some(Value::from(
        (0..len)
            .map(|i| Value::from(columns.iter().map(|c| c[i].clone()).collect::<Vec<_>>()))
            .collect::<Vec<_>>(),
    ))
}

fn to_set(value: &Value) -> Option<Value> {
    if !is_iterable(value) {
        return None;
    }
    Some(PySet::value(value.try_iter().ok()?))
}

/// Python's `json.dumps`: `", "` and `": "` separators, non-ASCII escaped, keys in the
/// value's order unless sorted.
pub(crate) fn to_json(value: &Value, sort_keys: bool) -> Option<String> {
    if !is_data(value) {
        return None;
    }
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, PyJsonFormatter);
    if sort_keys {
        // serde_json's own map is ordered by key.
        let sorted = serde_json::to_value(value).ok()?;
        serde::Serialize::serialize(&sorted, &mut serializer).ok()?;
    } else {
        serde::Serialize::serialize(value, &mut serializer).ok()?;
    }
    String::from_utf8(out).ok()
}

fn to_yaml(value: &Value, sort_keys: bool) -> Option<String> {
    if !is_data(value) {
        return None;
    }
    if sort_keys {
        let sorted = serde_json::to_value(value).ok()?;
        serde_yaml::to_string(&sorted).ok()
    } else {
        serde_yaml::to_string(value).ok()
    }
}

/// Whether Python's json and yaml modules could write `value`: none, booleans, numbers,
/// strings, lists and dicts of them (minijinja would write any other object as its name).
fn is_data(value: &Value) -> bool {
    match value.kind() {
        ValueKind::None
        | ValueKind::Undefined
        | ValueKind::Bool
        | ValueKind::Number
        | ValueKind::String => true,
        ValueKind::Seq => value
            .try_iter()
            .is_ok_and(|mut items| items.all(|v| is_data(&v))),
        ValueKind::Map => value.try_iter().is_ok_and(|mut keys| {
            keys.all(|k| is_data(&k) && value.get_item(&k).is_ok_and(|v| is_data(&v)))
        }),
        _ => false,
    }
}

struct PyJsonFormatter;

impl serde_json::ser::Formatter for PyJsonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.begin_array_value(w, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // Python's ensure_ascii: every non-ASCII character as \uXXXX (UTF-16 units).
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if c.is_ascii() {
                continue;
            }
            w.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(w, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
}

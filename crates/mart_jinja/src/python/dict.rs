//! A mutable dict with Python's methods, keeping insertion order as Python does.

use std::sync::{Arc, Mutex, MutexGuard};

use indexmap::IndexMap;
use minijinja::value::{from_args, Enumerator, Kwargs, Object, ObjectRepr, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

use super::list::invalid;

/// Python's `dict`: `update`, `setdefault`, `pop`, `popitem`, `copy`, `clear` here; `get`,
/// `items`, `keys` and `values` come from minijinja-contrib's pycompat, which reads any map.
#[derive(Debug, Default)]
pub struct PyDict {
    entries: Mutex<IndexMap<Value, Value>>,
}

impl PyDict {
    pub fn value(entries: IndexMap<Value, Value>) -> Value {
        Value::from_object(Self {
            entries: Mutex::new(entries),
        })
    }

    fn entries(&self) -> MutexGuard<'_, IndexMap<Value, Value>> {
        // A panic elsewhere cannot leave the map half-changed; keep using it.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn snapshot(&self) -> IndexMap<Value, Value> {
        self.entries().clone()
    }
}

/// The entries of a map value (or of a sequence of pairs), in its order.
pub(crate) fn entries_of(value: &Value) -> Result<Vec<(Value, Value)>, Error> {
    if let Some(dict) = value.downcast_object_ref::<PyDict>() {
        return Ok(dict.snapshot().into_iter().collect());
    }
    match value.kind() {
        ValueKind::Map => value
            .try_iter()?
            .map(|key| {
                let item = value.get_item(&key)?;
                Ok((key, item))
            })
            .collect(),
        ValueKind::Undefined | ValueKind::None => Ok(Vec::new()),
        _ => value
            .try_iter()?
            .map(|pair| {
                let mut items = pair.try_iter()?;
                match (items.next(), items.next(), items.next()) {
                    (Some(k), Some(v), None) => Ok((k, v)),
                    _ => Err(invalid(
                        "dict update takes a dict or a list of (key, value) pairs",
                    )),
                }
            })
            .collect(),
    }
}

impl Object for PyDict {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.entries().get(key).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.entries().keys().cloned().collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.entries().len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "update" => {
                let (other, kwargs): (Option<Value>, Kwargs) = from_args(args)?;
                let mut added = match other {
                    Some(other) => entries_of(&other)?,
                    None => Vec::new(),
                };
                for key in kwargs.args() {
                    added.push((Value::from(key), kwargs.get::<Value>(key)?));
                }
                self.entries().extend(added);
                Ok(Value::from(()))
            }
            "setdefault" => {
                let (key, default): (Value, Option<Value>) = from_args(args)?;
                let mut entries = self.entries();
                Ok(entries
                    .entry(key)
                    .or_insert_with(|| default.unwrap_or(Value::from(())))
                    .clone())
            }
            "pop" => {
                let (key, default): (Value, Option<Value>) = from_args(args)?;
                // shift_remove keeps the order of the other entries, as Python does.
                match (self.entries().shift_remove(&key), default) {
                    (Some(value), _) => Ok(value),
                    (None, Some(default)) => Ok(default),
                    (None, None) => Err(missing_key(&key)),
                }
            }
            "popitem" => {
                let () = from_args(args)?;
                match self.entries().pop() {
                    Some((key, value)) => Ok(Value::from(vec![key, value])),
                    None => Err(invalid("popitem(): dictionary is empty")),
                }
            }
            "copy" => {
                let () = from_args(args)?;
                Ok(Self::value(self.snapshot()))
            }
            "clear" => {
                let () = from_args(args)?;
                self.entries().clear();
                Ok(Value::from(()))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

fn missing_key(key: &Value) -> Error {
    invalid(format!(
        "pop(): key {key:?} is not in the dict; give a default: d.pop(key, none)"
    ))
}

//! A mutable list with Python's methods, shared by every name bound to it.

use std::sync::{Arc, Mutex, MutexGuard};

use minijinja::value::{from_args, Enumerator, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

/// Python's `list`: `append`, `extend`, `insert`, `pop`, `remove`, `index`, `count`,
/// `reverse`, `sort`, `copy`, `clear`. It reads like a minijinja sequence everywhere
/// else (iteration, indexing, slicing, filters, printing, serialization).
#[derive(Debug, Default)]
pub struct PyList {
    items: Mutex<Vec<Value>>,
}

impl PyList {
    pub fn new(items: Vec<Value>) -> Self {
        Self {
            items: Mutex::new(items),
        }
    }

    pub fn value(items: Vec<Value>) -> Value {
        Value::from_object(Self::new(items))
    }

    fn items(&self) -> MutexGuard<'_, Vec<Value>> {
        // A panic elsewhere cannot leave a Vec half-changed; keep using it.
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the items; comparisons run on it, never under the lock (an item may be
    /// this very list).
    pub fn snapshot(&self) -> Vec<Value> {
        self.items().clone()
    }
}

impl Object for PyList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let index = key.as_usize()?;
        self.items().get(index).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.snapshot())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.items().len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "append" => {
                let (item,): (Value,) = from_args(args)?;
                self.items().push(item);
                Ok(Value::from(()))
            }
            "extend" => {
                let (other,): (Value,) = from_args(args)?;
                let added: Vec<Value> = other.try_iter()?.collect();
                self.items().extend(added);
                Ok(Value::from(()))
            }
            "insert" => {
                let (index, item): (i64, Value) = from_args(args)?;
                let mut items = self.items();
                let at = clamp_index(index, items.len());
                items.insert(at, item);
                Ok(Value::from(()))
            }
            "pop" => {
                let (index,): (Option<i64>,) = from_args(args)?;
                let mut items = self.items();
                let len = items.len();
                let at = match index {
                    None if len > 0 => Some(len - 1),
                    None => None,
                    Some(i) => resolve_index(i, len),
                };
                match at {
                    Some(at) => Ok(items.remove(at)),
                    None if len == 0 => Err(invalid("pop from empty list")),
                    None => Err(invalid("pop index out of range")),
                }
            }
            "remove" => {
                let (item,): (Value,) = from_args(args)?;
                let at = self.position(&item)?;
                self.items().remove(at);
                Ok(Value::from(()))
            }
            "index" => {
                let (item,): (Value,) = from_args(args)?;
                self.position(&item).map(Value::from)
            }
            "count" => {
                let (item,): (Value,) = from_args(args)?;
                Ok(Value::from(
                    self.snapshot().iter().filter(|v| **v == item).count(),
                ))
            }
            "reverse" => {
                let () = from_args(args)?;
                self.items().reverse();
                Ok(Value::from(()))
            }
            "sort" => {
                let (kwargs,): (minijinja::value::Kwargs,) = from_args(args)?;
                let reverse: Option<bool> = kwargs.get("reverse")?;
                kwargs.assert_all_used()?;
                let mut sorted = self.snapshot();
                sorted.sort();
                if reverse.unwrap_or(false) {
                    sorted.reverse();
                }
                *self.items() = sorted;
                Ok(Value::from(()))
            }
            "copy" => {
                let () = from_args(args)?;
                Ok(Self::value(self.snapshot()))
            }
            "clear" => {
                let () = from_args(args)?;
                self.items().clear();
                Ok(Value::from(()))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

impl PyList {
    fn position(&self, item: &Value) -> Result<usize, Error> {
        self.snapshot()
            .iter()
            .position(|v| v == item)
            .ok_or_else(|| invalid(format!("{item:?} is not in list")))
    }
}

/// Python's index for `insert`: negative from the end, clamped to the list.
fn clamp_index(index: i64, len: usize) -> usize {
    if index < 0 {
        len.saturating_sub(index.unsigned_abs() as usize)
    } else {
        (index as usize).min(len)
    }
}

/// Python's index for `pop`: negative from the end; `None` when out of range.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let at = if index < 0 {
        len.checked_sub(index.unsigned_abs() as usize)?
    } else {
        index as usize
    };
    (at < len).then_some(at)
}

pub(crate) fn invalid(message: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

/// Python's `set`, as mart has it: a mutable list without duplicates, kept sorted so that
/// two sets with the same members compare equal whatever order they were built in
/// (Python's sets have no order to keep).
#[derive(Debug, Default)]
pub struct PySet {
    items: Mutex<Vec<Value>>,
}

impl PySet {
    pub fn value(items: impl IntoIterator<Item = Value>) -> Value {
        let mut items: Vec<Value> = items.into_iter().collect();
        items.sort();
        items.dedup();
        Value::from_object(Self {
            items: Mutex::new(items),
        })
    }

    fn items(&self) -> MutexGuard<'_, Vec<Value>> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn snapshot(&self) -> Vec<Value> {
        self.items().clone()
    }

    fn add(&self, item: Value) {
        let mut items = self.items();
        if let Err(at) = items.binary_search(&item) {
            items.insert(at, item);
        }
    }
}

impl Object for PySet {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let index = key.as_usize()?;
        self.items().get(index).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.snapshot())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.items().len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let members =
            |other: &Value| -> Result<Vec<Value>, Error> { Ok(other.try_iter()?.collect()) };
        match method {
            "add" => {
                let (item,): (Value,) = from_args(args)?;
                self.add(item);
                Ok(Value::from(()))
            }
            "update" => {
                let (other,): (Value,) = from_args(args)?;
                for item in members(&other)? {
                    self.add(item);
                }
                Ok(Value::from(()))
            }
            "remove" | "discard" => {
                let (item,): (Value,) = from_args(args)?;
                let mut items = self.items();
                match items.binary_search(&item) {
                    Ok(at) => {
                        items.remove(at);
                    }
                    Err(_) if method == "remove" => {
                        return Err(invalid(format!("{item:?} is not in the set")))
                    }
                    Err(_) => {}
                }
                Ok(Value::from(()))
            }
            "union" => {
                let (other,): (Value,) = from_args(args)?;
                let mut all = self.snapshot();
                all.extend(members(&other)?);
                Ok(Self::value(all))
            }
            "intersection" | "difference" => {
                let (other,): (Value,) = from_args(args)?;
                let other = members(&other)?;
                let keep = method == "intersection";
                Ok(Self::value(
                    self.snapshot()
                        .into_iter()
                        .filter(|v| other.contains(v) == keep),
                ))
            }
            "issubset" | "issuperset" => {
                let (other,): (Value,) = from_args(args)?;
                let other = members(&other)?;
                let mine = self.snapshot();
                Ok(Value::from(if method == "issubset" {
                    mine.iter().all(|v| other.contains(v))
                } else {
                    other.iter().all(|v| mine.contains(v))
                }))
            }
            "copy" => {
                let () = from_args(args)?;
                Ok(Self::value(self.snapshot()))
            }
            "clear" => {
                let () = from_args(args)?;
                self.items().clear();
                Ok(Value::from(()))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

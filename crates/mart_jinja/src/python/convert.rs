//! Plain values as mutable Python ones, and JSON/YAML text read straight into them (in
//! the document's key order, as Python's json and yaml modules keep it).

use std::fmt;

use indexmap::IndexMap;
use minijinja::value::{Value, ValueKind};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::dict::{entries_of, PyDict};
use super::list::{PyList, PySet};

/// `value` with every plain sequence a [`PyList`] and every plain map a [`PyDict`], deeply;
/// mart's own mutable values and everything else are kept as they are.
pub fn to_python(value: Value) -> Value {
    if is_python(&value) {
        return value;
    }
    match value.kind() {
        ValueKind::Seq => match value.try_iter() {
            Ok(items) => PyList::value(items.map(to_python).collect()),
            Err(_) => value,
        },
        ValueKind::Map if value.as_object().is_some() => match entries_of(&value) {
            Ok(entries) => PyDict::value(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, to_python(v)))
                    .collect(),
            ),
            Err(_) => value,
        },
        _ => value,
    }
}

/// Whether `value` is one of mart's mutable lists, sets or dicts.
pub fn is_python(value: &Value) -> bool {
    value.downcast_object_ref::<PyList>().is_some()
        || value.downcast_object_ref::<PyDict>().is_some()
        || value.downcast_object_ref::<PySet>().is_some()
}

/// A document read as mutable Python values.
pub(crate) struct PyValue(pub Value);

impl<'de> Deserialize<'de> for PyValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PyVisitor).map(PyValue)
    }
}

struct PyVisitor;

impl<'de> Visitor<'de> for PyVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON or YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::from(()))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::from(()))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(PyVisitor)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(PyValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(PyList::value(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = IndexMap::with_capacity(map.size_hint().unwrap_or(0));
        while let Some((PyValue(key), PyValue(value))) = map.next_entry()? {
            entries.insert(key, value);
        }
        Ok(PyDict::value(entries))
    }
}

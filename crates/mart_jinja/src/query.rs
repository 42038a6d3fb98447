//! `run_query()`: a real query at render time, through a runner the caller supplies.

use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};

/// The rows of a query, as text (what dbt's agate tables give templates, simplified).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// Runs SQL for templates. Implemented by the database layer; called from render threads.
pub trait QueryRunner: Send + Sync {
    fn run_query(&self, sql: &str) -> Result<QueryTable, String>;
}

/// `run_query(...)` result: iterable rows, `.rows`, `.columns`, `.columns[i].values()`.
#[derive(Debug)]
pub(crate) struct TableValue(pub QueryTable);

fn cell(value: &Option<String>) -> Value {
    match value {
        None => Value::from(()),
        Some(text) => text
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| text.parse::<f64>().map(Value::from))
            .unwrap_or_else(|_| Value::from(text.as_str())),
    }
}

impl TableValue {
    fn rows(&self) -> Value {
        Value::from_iter(
            self.0
                .rows
                .iter()
                .map(|row| Value::from_iter(row.iter().map(cell))),
        )
    }

    fn columns(&self) -> Value {
        Value::from_iter(self.0.columns.iter().enumerate().map(|(i, name)| {
            Value::from_object(ColumnValue {
                name: name.clone(),
                values: self.0.rows.iter().map(|r| cell(&r[i])).collect(),
            })
        }))
    }
}

impl Object for TableValue {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if let Some(index) = key.as_usize() {
            let row = self.0.rows.get(index)?;
            return Some(Value::from_iter(row.iter().map(cell)));
        }
        match key.as_str()? {
            "rows" => Some(self.rows()),
            "columns" => Some(self.columns()),
            "column_names" => Some(Value::from_iter(self.0.columns.iter().cloned())),
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.rows.len())
    }
}

#[derive(Debug)]
struct ColumnValue {
    name: String,
    values: Vec<Value>,
}

impl Object for ColumnValue {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "name" => Some(Value::from(self.name.clone())),
            _ => None,
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &minijinja::State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, minijinja::Error> {
        match method {
            "values" => Ok(Value::from_iter(self.values.iter().cloned())),
            _ => Err(minijinja::Error::from(minijinja::ErrorKind::UnknownMethod)),
        }
    }
}

//! `run_query()` results and `load_result(...).table`, shaped like the agate tables dbt
//! gives templates: `.columns` (by name and position), `.column_names`, `.column_types`,
//! `.rows` (each row by name and position), iteration over rows, `print_table()`,
//! `select()`... Values are typed by the PostgreSQL column type, as dbt types them.

use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

use crate::agate::{cell, infer_type, render_table, AgateType, TypeValue};
use crate::args::bind;

/// The rows of a query as PostgreSQL prints them (`None` is NULL), with the type name of
/// each column (`int4`, `numeric`, `timestamptz`...) when the runner knows them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryTable {
    pub columns: Vec<String>,
    /// One name per column, or empty when unknown (values are then typed by their text).
    pub column_types: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    /// The row count of the statement's command tag, when known.
    pub rows_affected: Option<u64>,
}

/// Runs SQL for templates. Implemented by the database layer; called from render threads.
pub trait QueryRunner: Send + Sync {
    fn run_query(&self, sql: &str) -> Result<QueryTable, String>;
}

/// A table's typed contents.
#[derive(Debug)]
pub(crate) struct TableData {
    names: Vec<String>,
    types: Vec<AgateType>,
    rows: Vec<Vec<Value>>,
}

impl TableData {
    pub(crate) fn new(table: &QueryTable) -> Self {
        let types: Vec<AgateType> = (0..table.columns.len())
            .map(|i| match table.column_types.get(i) {
                Some(pg_type) => AgateType::of_pg_type(pg_type),
                None => infer_type(
                    table
                        .rows
                        .iter()
                        .map(|r| r.get(i).and_then(Option::as_deref)),
                ),
            })
            .collect();
        let rows = table
            .rows
            .iter()
            .map(|row| {
                types
                    .iter()
                    .enumerate()
                    .map(|(i, t)| cell(*t, row.get(i).and_then(Option::as_deref)))
                    .collect()
            })
            .collect();
        Self {
            names: table.columns.clone(),
            types,
            rows,
        }
    }

    fn index_of(&self, key: &Value) -> Option<usize> {
        match key.as_str() {
            Some(name) => self.names.iter().position(|n| n == name),
            None => key.as_usize().filter(|i| *i < self.names.len()),
        }
    }

    /// The rows as lists of values (`load_result(...).data`).
    pub(crate) fn matrix(&self) -> Value {
        Value::from_iter(self.rows.iter().map(|r| Value::from(r.clone())))
    }
}

/// An agate Table.
#[derive(Debug, Clone)]
pub(crate) struct TableValue(pub Arc<TableData>);

impl TableValue {
    pub(crate) fn new(table: &QueryTable) -> Self {
        Self(Arc::new(TableData::new(table)))
    }

    fn row(&self, index: usize) -> Option<Value> {
        (index < self.0.rows.len()).then(|| {
            Value::from_object(RowValue {
                table: self.0.clone(),
                index,
            })
        })
    }

    fn column(&self, index: usize) -> Value {
        Value::from_object(ColumnValue {
            table: self.0.clone(),
            index,
        })
    }

    /// A table of some of these columns (`select`) or of some of the rows (`limit`).
    fn subset(&self, columns: &[usize], rows: std::ops::Range<usize>) -> TableValue {
        let data = &self.0;
        TableValue(Arc::new(TableData {
            names: columns.iter().map(|i| data.names[*i].clone()).collect(),
            types: columns.iter().map(|i| data.types[*i]).collect(),
            rows: data.rows[rows]
                .iter()
                .map(|r| columns.iter().map(|i| r[*i].clone()).collect())
                .collect(),
        }))
    }

    fn column_indexes(&self, method: &str, keys: &Value) -> Result<Vec<usize>, Error> {
        let keys: Vec<Value> = match keys.as_str() {
            Some(_) => vec![keys.clone()],
            None => keys.try_iter()?.collect(),
        };
        keys.iter()
            .map(|key| {
                self.0.index_of(key).ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidOperation,
                        format!(
                            "table.{method}(): no column {key}; the columns are {}",
                            self.0.names.join(", ")
                        ),
                    )
                })
            })
            .collect()
    }
}

impl Object for TableValue {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if let Some(index) = key.as_usize() {
            return self.row(index);
        }
        match key.as_str()? {
            "rows" => Some(Value::from_object(RowsValue((**self).clone()))),
            "columns" => Some(Value::from_object(ColumnsValue((**self).clone()))),
            "column_names" => Some(Value::from_iter(self.0.names.iter().cloned())),
            "column_types" => Some(Value::from_iter(
                self.0
                    .types
                    .iter()
                    .map(|t| Value::from_object(TypeValue(*t))),
            )),
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.rows.len())
    }

    fn call_method(
        self: &Arc<Self>,
        state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let all_rows = 0..self.0.rows.len();
        match method {
            "print_table" => {
                let bound = bind(
                    "print_table",
                    args,
                    &["max_rows", "max_columns", "output", "max_column_width"],
                )?;
                let max_rows = bound.int("max_rows")?.unwrap_or(20).max(0) as usize;
                let max_columns = bound.int("max_columns")?.unwrap_or(6).max(0) as usize;
                let max_width = bound.int("max_column_width")?.unwrap_or(20).max(1) as usize;
                let text = render_table(&self.0.names, &self.0.types, &self.0.rows, max_rows, max_columns, max_width);
                crate::functions::scope(state)?.record().logs.push(text);
                Ok(Value::from(""))
            }
            "select" => {
                let bound = bind("select", args, &["key"])?;
                let columns = self.column_indexes("select", bound.required("key")?)?;
                Ok(Value::from_object(self.subset(&columns, all_rows)))
            }
            "exclude" => {
                let bound = bind("exclude", args, &["key"])?;
                let excluded = self.column_indexes("exclude", bound.required("key")?)?;
                let kept: Vec<usize> = (0..self.0.names.len())
                    .filter(|i| !excluded.contains(i))
                    .collect();
                Ok(Value::from_object(self.subset(&kept, all_rows)))
            }
            "limit" => {
                let bound = bind("limit", args, &["start_or_stop"])?;
                let stop = bound.int("start_or_stop")?.unwrap_or(i64::MAX).max(0) as usize;
                let columns: Vec<usize> = (0..self.0.names.len()).collect();
                Ok(Value::from_object(
                    self.subset(&columns, 0..stop.min(self.0.rows.len())),
                ))
            }
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("a query result table has no method '{method}' (mart supports print_table, select, exclude and limit)"),
            )),
        }
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "<agate.Table: {} rows, columns {}>",
            self.0.rows.len(),
            self.0.names.join(", ")
        )
    }
}

/// `table.rows`: a sequence of rows.
#[derive(Debug)]
struct RowsValue(TableValue);

impl Object for RowsValue {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.0.row(key.as_usize()?)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0 .0.rows.len())
    }
}

/// Keys, values and items of agate's mapped sequences (rows and `table.columns`).
fn mapped_method(
    what: &str,
    method: &str,
    args: &[Value],
    names: &[String],
    value_at: impl Fn(usize) -> Value,
) -> Result<Value, Error> {
    let values = || (0..names.len()).map(&value_at);
    match method {
        "keys" => {
            bind(method, args, &[])?;
            Ok(Value::from_iter(names.iter().cloned()))
        }
        "values" => {
            bind(method, args, &[])?;
            Ok(Value::from_iter(values()))
        }
        "items" => {
            bind(method, args, &[])?;
            Ok(Value::from_iter(names.iter().zip(values()).map(
                |(n, v)| Value::from(vec![Value::from(n.as_str()), v]),
            )))
        }
        "dict" => {
            bind(method, args, &[])?;
            Ok(Value::from_iter(names.iter().cloned().zip(values())))
        }
        "get" => {
            let bound = bind(method, args, &["key", "default"])?;
            let key = bound.required_string("key")?;
            Ok(match names.iter().position(|n| *n == key) {
                Some(i) => value_at(i),
                None => bound.given("default").cloned().unwrap_or_default(),
            })
        }
        _ => Err(Error::new(
            ErrorKind::UnknownMethod,
            format!("{what} has no method '{method}' (it has keys, values, items, dict and get)"),
        )),
    }
}

/// One row: `row['name']`, `row[0]`, `row.name`, iteration over its values.
#[derive(Debug)]
struct RowValue {
    table: Arc<TableData>,
    index: usize,
}

impl RowValue {
    fn cells(&self) -> &[Value] {
        &self.table.rows[self.index]
    }
}

impl Object for RowValue {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let column = self.table.index_of(key)?;
        self.cells().get(column).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.cells().len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let cells = self.cells();
        mapped_method("a row", method, args, &self.table.names, |i| {
            cells[i].clone()
        })
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cells: Vec<String> = self.cells().iter().map(|v| format!("{v:?}")).collect();
        write!(f, "<agate.Row: ({})>", cells.join(", "))
    }
}

/// `table.columns`: by position, by name, and as a sequence of columns.
#[derive(Debug)]
struct ColumnsValue(TableValue);

impl Object for ColumnsValue {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(self.0.column(self.0 .0.index_of(key)?))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0 .0.names.len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        mapped_method("table.columns", method, args, &self.0 .0.names, |i| {
            self.0.column(i)
        })
    }
}

/// One column: `.name`, `.data_type`, `.values()`, `.values_distinct()`, `column[i]`.
#[derive(Debug)]
struct ColumnValue {
    table: Arc<TableData>,
    index: usize,
}

impl ColumnValue {
    fn values(&self) -> impl Iterator<Item = &Value> + '_ {
        self.table.rows.iter().map(|r| &r[self.index])
    }
}

impl Object for ColumnValue {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if let Some(row) = key.as_usize() {
            return self.table.rows.get(row).map(|r| r[self.index].clone());
        }
        match key.as_str()? {
            "name" => Some(Value::from(self.table.names[self.index].clone())),
            "index" => Some(Value::from(self.index)),
            "data_type" => Some(Value::from_object(TypeValue(self.table.types[self.index]))),
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.table.rows.len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        bind(method, args, &[])?;
        match method {
            "values" => Ok(Value::from_iter(self.values().cloned())),
            "values_distinct" => {
                let mut distinct: Vec<Value> = Vec::new();
                for value in self.values() {
                    if !distinct.contains(value) {
                        distinct.push(value.clone());
                    }
                }
                Ok(Value::from(distinct))
            }
            "values_without_nulls" => Ok(Value::from_iter(
                self.values().filter(|v| !v.is_none()).cloned(),
            )),
            "values_sorted" => {
                let mut sorted: Vec<Value> = self.values().cloned().collect();
                sorted.sort();
                Ok(Value::from(sorted))
            }
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("a column has no method '{method}' (it has values, values_distinct, values_without_nulls and values_sorted)"),
            )),
        }
    }
}

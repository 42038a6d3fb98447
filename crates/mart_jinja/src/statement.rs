//! dbt's `statement` block and `load_result()`: `{% call statement('name', fetch_result=True) %}
//! sql {% endcall %}` runs the block's SQL through the query runner and keeps the result
//! under its name for `load_result('name')`.

use std::sync::Arc;

use minijinja::value::{Kwargs, Object, Value};
use minijinja::{Error, ErrorKind, State};

use crate::functions::{query, scope};
use crate::query::{QueryTable, TableValue};

/// `statement(name=None, fetch_result=False, auto_begin=True, language='sql')`, called as
/// a `{% call %}` block: the block's text is the SQL.
pub(crate) fn statement(
    state: &State,
    name: Option<Value>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let name: Option<String> = match kwargs.get::<Option<String>>("name")? {
        Some(n) => Some(n),
        None => name.filter(|v| !v.is_none()).map(|v| v.to_string()),
    };
    let fetch_result: Option<bool> = kwargs.get("fetch_result")?;
    let _auto_begin: Option<bool> = kwargs.get("auto_begin")?;
    let language: Option<String> = kwargs.get("language")?;
    let caller: Option<Value> = kwargs.get("caller")?;
    kwargs.assert_all_used()?;
    if language.as_deref().is_some_and(|l| l != "sql") {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "statement() runs SQL only; drop language= or set it to 'sql'",
        ));
    }
    let Some(caller) = caller else {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "statement() is a block: write {% call statement('name') %} sql {% endcall %}",
        ));
    };
    let sql = caller.call(state, &[])?.to_string();
    let scope = scope(state)?;
    let Some(table) = query(&scope, &sql)? else {
        return Ok(String::new());
    };
    if let Some(name) = name {
        let kept = if fetch_result.unwrap_or(false) {
            table
        } else {
            QueryTable::default()
        };
        scope
            .results
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name, kept);
    }
    Ok(String::new())
}

/// `load_result('name')`: `.table`, `.data` (rows) and `.response` of a named statement,
/// or none when no statement of that name ran.
pub(crate) fn load_result(state: &State, name: String) -> Result<Value, Error> {
    let scope = scope(state)?;
    let results = scope.results.lock().unwrap_or_else(|e| e.into_inner());
    Ok(results.get(&name).map_or(Value::from(()), |table| {
        Value::from_object(StatementResult(Arc::new(TableValue(table.clone()))))
    }))
}

#[derive(Debug)]
struct StatementResult(Arc<TableValue>);

impl Object for StatementResult {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "table" => Some(Value::from_dyn_object(self.0.clone())),
            "data" => self.0.get_value(&Value::from("rows")),
            "response" => Some(Value::from_iter([(
                "rows_affected",
                Value::from(self.0 .0.rows.len()),
            )])),
            _ => None,
        }
    }
}

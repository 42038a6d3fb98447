//! dbt's `statement` block and `load_result()`: `{% call statement('name', fetch_result=True) %}
//! sql {% endcall %}` runs the block's SQL through the query runner and keeps the result
//! under its name for `load_result('name')`.

use std::sync::Arc;

use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr, Value};
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
    // A macro in dbt: the node depends on it, and what its block calls is its own.
    let render = scope(state)?;
    render.note_macro_call(crate::namespaces::INTERNAL_PACKAGE, "statement");
    let _depth = render.enter_macro();
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
        // Without fetch_result the table is empty; the response still counts the rows.
        let kept = if fetch_result.unwrap_or(false) {
            table
        } else {
            QueryTable {
                rows_affected: table.rows_affected,
                ..QueryTable::default()
            }
        };
        let kept = StoredResult {
            table: kept,
            code: command_code(&sql),
        };
        scope
            .results
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name, kept);
    }
    Ok(String::new())
}

/// What a named statement left for `load_result()`.
#[derive(Clone, Debug)]
pub(crate) struct StoredResult {
    table: QueryTable,
    code: String,
}

/// dbt-postgres's response code is the command tag without its numbers (`INSERT`,
/// `CREATE TABLE`); the driver does not pass the tag on, so it is read from the SQL's
/// first words. A statement starting with `with` counts as a `SELECT`.
fn command_code(sql: &str) -> String {
    let words: Vec<String> = sql
        .split_whitespace()
        .take(4)
        .map(str::to_uppercase)
        .collect();
    let word = |i: usize| words.get(i).map_or("", String::as_str);
    match word(0) {
        "WITH" => "SELECT".to_string(),
        first @ ("CREATE" | "DROP" | "ALTER") => {
            let mut object = Vec::new();
            for w in words[1..].iter().map(String::as_str) {
                if matches!(
                    w,
                    "OR" | "REPLACE" | "TEMP" | "TEMPORARY" | "UNLOGGED" | "UNIQUE"
                ) {
                    continue;
                }
                object.push(w);
                if w != "MATERIALIZED" {
                    break;
                }
            }
            format!("{first} {}", object.join(" "))
                .trim_end()
                .to_string()
        }
        first => first.to_string(),
    }
}

/// `load_result('name')`: `.table`, `.data` (rows) and `.response` of a named statement,
/// or none when no statement of that name ran.
pub(crate) fn load_result(state: &State, name: String) -> Result<Value, Error> {
    let scope = scope(state)?;
    let results = scope.results.lock().unwrap_or_else(|e| e.into_inner());
    Ok(results.get(&name).map_or(Value::from(()), |stored| {
        Value::from_object(StatementResult {
            table: TableValue::new(&stored.table),
            response: response(&stored.code, stored.table.rows_affected),
        })
    }))
}

/// dbt's AdapterResponse: `rows_affected`, `code` and `_message` (`INSERT 3`).
pub(crate) fn response(code: &str, rows_affected: Option<u64>) -> Value {
    let rows = rows_affected.unwrap_or(0);
    Value::from_iter([
        ("rows_affected", Value::from(rows)),
        ("code", Value::from(code)),
        ("_message", Value::from(format!("{code} {rows}"))),
    ])
}

#[derive(Debug)]
struct StatementResult {
    table: TableValue,
    response: Value,
}

impl Object for StatementResult {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "table" => Some(Value::from_object(self.table.clone())),
            "data" => Some(self.table.0.matrix()),
            "response" => Some(self.response.clone()),
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["response", "data", "table"])
    }

    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }
}

#[cfg(test)]
mod tests {
    use super::command_code;

    #[test]
    fn response_codes_name_the_command() {
        let cases = [
            ("insert into t values (1)", "INSERT"),
            ("  select 1", "SELECT"),
            ("with x as (select 1) select * from x", "SELECT"),
            ("create or replace view v as select 1", "CREATE VIEW"),
            ("create unlogged table t (id int)", "CREATE TABLE"),
            (
                "drop materialized view if exists m",
                "DROP MATERIALIZED VIEW",
            ),
            ("", ""),
        ];
        for (sql, code) in cases {
            assert_eq!(command_code(sql), code, "{sql}");
        }
    }
}
